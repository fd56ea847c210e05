import {
  type AuditKey,
  type AuditRecord,
  auditKey,
  intentKey,
  isTrustedRecord,
  sign,
  type UnsignedAuditRecord,
} from '../audit/record';
import { parseStored } from '../audit/store';
import type { CallLog } from '../clients/calllog';
import { isNotFound, type OssGateway } from '../clients/oss';
import { describeError } from '../errors';
import type { ChangeRecord } from '../events/types';
import type { Logger } from '../log';
import { duplicateOf, type ItemOutcome, isCompleted, retryOf, withDecision } from './records';
import type { Decision } from './types';

/**
 * Where one change's records live in the audit bucket: its audit record and its intent (written before a
 * revert) or claim (written before an alert-only decision). A change reaches ossguard on two paths
 * (EventBridge and the trail), keyed on the same eventId: these objects are how the second path knows it is one.
 */
export interface ChangeLedger {
  gateway: OssGateway;
  bucket: string;
  /** The change's key for this attempt: a record read back must be about it (not a valid record copied here). */
  dedupeKey: string;
  recordKey: string;
  intentKey: string;
  /** Signs intents and claims, and decides whether an intent read back can be believed. */
  auditKey: AuditKey | undefined;
  /** The audit key's version before a rotation: what it signed before the rotation is believed too. */
  previousKey?: AuditKey | undefined;
}

/**
 * How many records one change may gather: attempts that failed, and records planted by others. A change whose
 * every key is taken is still judged and acted on under the last one; only its record is then lost.
 */
const MAX_ATTEMPTS = 8;

/** The ledger a change is decided under, or the one whose record already settles it. */
export type LedgerOpening =
  | { kind: 'handled'; ledger: ChangeLedger }
  | { kind: 'open'; ledger: ChangeLedger; dedupeKey: string };

/**
 * Finds where this change stands: a record that verifies under the audit key means it was handled, unless it
 * records a failed attempt and the change comes from `ossguard replay` (LookupEvents history), which re-drives
 * failures on purpose; the other live path delivering the same change minutes later would only fail and alert
 * again. A record that does not verify (written by someone else) settles nothing. An unsettled change is
 * decided again under the next attempt's keys (`<dedupeKey>#attempt-<n>`), since records are write-once.
 */
export async function openLedger(
  audit: {
    gateway: OssGateway;
    bucket: string;
    prefix: string;
    key: AuditKey | undefined;
    previousKey?: AuditKey | undefined;
  },
  change: Pick<ChangeRecord, 'dedupeKey' | 'time' | 'origin'>,
): Promise<LedgerOpening> {
  const retryFailed = change.origin === 'lookup-events';
  for (let attempt = 1; ; attempt++) {
    const dedupeKey = attempt === 1 ? change.dedupeKey : `${change.dedupeKey}#attempt-${attempt}`;
    const ledger = ledgerAt(audit, dedupeKey, change.time);
    const state = await recordState(ledger, retryFailed);
    if (state === 'handled') return { kind: 'handled', ledger };
    if (state === 'absent' || attempt === MAX_ATTEMPTS) return { kind: 'open', ledger, dedupeKey };
  }
}

/** Where the records of the change keyed `dedupeKey` at `time` live. */
const ledgerAt = (
  audit: {
    gateway: OssGateway;
    bucket: string;
    prefix: string;
    key: AuditKey | undefined;
    previousKey?: AuditKey | undefined;
  },
  dedupeKey: string,
  time: string,
): ChangeLedger => ({
  gateway: audit.gateway,
  bucket: audit.bucket,
  dedupeKey,
  recordKey: auditKey(audit.prefix, dedupeKey, time),
  intentKey: intentKey(audit.prefix, dedupeKey, time),
  auditKey: audit.key,
  previousKey: audit.previousKey,
});

/**
 * The record at the ledger's key: `absent`, the record if it verifies and is about this change, or
 * `untrusted` for anything else there.
 */
export async function ledgerRecord(at: ChangeLedger): Promise<AuditRecord | 'absent' | 'untrusted'> {
  // Most changes are new: a HEAD says so without the error body a GET of a missing key answers, which the
  // SDK parses as XML (BENCHMARKS.md, burst). Only a record that is there is read.
  if (!(await at.gateway.objectExists(at.bucket, at.recordKey))) return 'absent';
  let body: Buffer;
  try {
    body = await at.gateway.getObject(at.bucket, at.recordKey);
  } catch (error) {
    if (isNotFound(error)) return 'absent';
    throw error;
  }
  const { record } = parseStored(at.recordKey, body);
  return record && believable(record, at) ? record : 'untrusted';
}

/**
 * Signed with the audit key, and about this change: whoever can write the audit bucket cannot sign a record,
 * but could copy a signed one to the key of a change it wants ignored.
 */
const believable = (record: AuditRecord, at: ChangeLedger): boolean =>
  record.dedupeKey === at.dedupeKey &&
  (isTrustedRecord(record, at.auditKey) ||
    (at.previousKey !== undefined && isTrustedRecord(record, at.previousKey)));

async function recordState(
  at: ChangeLedger,
  retryFailed: boolean,
): Promise<'absent' | 'handled' | 'unsettled'> {
  const record = await ledgerRecord(at);
  if (record === 'absent') return 'absent';
  return record !== 'untrusted' && (isCompleted(record) || !retryFailed) ? 'handled' : 'unsettled';
}

/**
 * The intent goes out before the revert: if the record is lost after the revert, the redelivery finds the
 * resource fixed and finishes the record from the intent instead of recording `skipped`. The other delivery,
 * reading the reverted state, must find the intent to know the revert was this one's. This costs the resource
 * one round trip of exposure (measured with the intent sent alongside instead: time-to-remediate p50 27 → 40 ms
 * at 10 ms per call). Returns whether another delivery of the event already holds the intent.
 */
export async function writeIntent(
  at: ChangeLedger,
  record: UnsignedAuditRecord,
  planned: Decision,
  calls: CallLog,
  log: Logger,
): Promise<boolean> {
  const body = JSON.stringify(sign(withDecision(record, planned, calls), at.auditKey));
  try {
    return (await at.gateway.putObjectIfAbsent(at.bucket, at.intentKey, body)) === 'exists';
  } catch (error) {
    // The revert goes out regardless, and the record may still be written. Only if that fails too does the
    // redelivery find a fixed resource without an intent, and record `skipped`.
    log.warn('intent record could not be written', {
      eventId: record.eventId,
      intentKey: at.intentKey,
      error: describeError(error),
    });
    return false;
  }
}

/**
 * A `skipped` change may be one whose revert an earlier delivery made but could not record. Another path
 * (EventBridge and the trail deliver the same change) may be sending its alert right now: its record is the
 * true one. Only a delivery that died leaves the intent without a record; this one then finishes it.
 */
export async function resolveSkipped(
  at: ChangeLedger,
  record: UnsignedAuditRecord,
  now: Decision,
  calls: CallLog,
): Promise<ItemOutcome | undefined> {
  const completed = await completeFromIntent(at, now, calls);
  if (!completed) return undefined;
  if (await recordAppears(at))
    return duplicateOf(record, at.recordKey, 'already handled by another delivery');
  return { kind: 'record', pending: { key: at.recordKey, record: completed } };
}

/**
 * No revert announced an intent: claim the change before alerting, so that a second path delivering the same
 * event (EventBridge and the trail) does not alert again while this one is under way. A claim whose record
 * never appears was left by a delivery that died; this one takes over. Undefined: the claim is this delivery's.
 */
export async function claimAlert(
  at: ChangeLedger,
  record: UnsignedAuditRecord,
  decision: Decision,
  calls: CallLog,
  now: Date,
): Promise<ItemOutcome | undefined> {
  const claim = JSON.stringify(sign(withDecision(record, decision, calls), at.auditKey));
  if ((await at.gateway.putObjectIfAbsent(at.bucket, at.intentKey, claim)) !== 'exists') return undefined;
  if (await recordAppears(at))
    return duplicateOf(record, at.recordKey, 'already handled by another delivery');
  // Still under way (alerts may wait on a channel's rate limit): try again later rather than alert twice.
  if (!(await claimOutlivedItsHolder(at, now))) {
    return retryOf(record.eventId, 'another delivery of this event is alerting on it', true);
  }
  return undefined;
}

/** How long a delivery that found another's intent waits for that delivery's record: its alert and write. */
const INTENT_RECORD_WAIT_MS = 10_000;
const INTENT_RECORD_FIRST_POLL_MS = 100;
const INTENT_RECORD_MAX_POLL_MS = 1_000;

/**
 * Whether the other delivery's record appears: one signed with the audit key and about this change. An object
 * planted at the key by someone who can write the audit bucket is not that record, and must not turn this
 * change into a duplicate that nobody alerts on.
 */
async function recordAppears(at: ChangeLedger): Promise<boolean> {
  for (let delay = INTENT_RECORD_FIRST_POLL_MS, waited = 0; waited < INTENT_RECORD_WAIT_MS; waited += delay) {
    await new Promise((resolve) => setTimeout(resolve, delay));
    const record = await ledgerRecord(at);
    if (record !== 'absent' && record !== 'untrusted') return true;
    delay = Math.min(delay * 2, INTENT_RECORD_MAX_POLL_MS);
  }
  return false;
}

/**
 * A delivery cannot run longer than its function's timeout (60 s for the event guards in s.yaml): a claim
 * older than that, with no record, was left by a delivery that died.
 */
const CLAIM_LIFETIME_MS = 60_000;

async function claimOutlivedItsHolder(at: ChangeLedger, now: Date): Promise<boolean> {
  try {
    const { record } = parseStored(at.intentKey, await at.gateway.getObject(at.bucket, at.intentKey));
    return !record || now.getTime() - Date.parse(record.decidedAt) > CLAIM_LIFETIME_MS;
  } catch (error) {
    if (isNotFound(error)) return true;
    throw error;
  }
}

/**
 * The record of a revert an earlier delivery made but could not record: its intent, with the live state
 * read now as `after` (the revert is idempotent and the state now passes, so it took effect). No alert: the
 * earlier delivery sent it before writing the record, and a second email cannot be taken back.
 */
async function completeFromIntent(
  at: ChangeLedger,
  now: Decision,
  calls: CallLog,
): Promise<UnsignedAuditRecord | undefined> {
  let body: Buffer;
  try {
    body = await at.gateway.getObject(at.bucket, at.intentKey);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
  const { record } = parseStored(at.intentKey, body);
  if (!record) return undefined;
  // An intent someone without the audit key wrote must not turn into a `remediated` record.
  if (!believable(record, at)) return undefined;
  const { digest: _digest, mac: _mac, macKeyId: _macKeyId, ...planned } = record;
  return {
    ...planned,
    ...(now.before ? { after: now.before } : {}),
    reason: `${planned.reason} (recorded by a redelivery: ${now.reason})`,
    requestIds: [...planned.requestIds, ...calls.entries],
    alerts: [],
    completedFrom: at.intentKey,
  };
}
