import { CLOCK_SKEW_MS } from '../audit/newest-first';
import {
  type AuditKey,
  type AuditRecord,
  auditKey,
  intentKey,
  isTrustedRecordEither,
  macOf,
  sign,
  type UnsignedAuditRecord,
} from '../audit/record';
import { parseStored } from '../audit/store';
import type { CallLog } from '../clients/calllog';
import { isNotFound, isTooLarge, type OssGateway } from '../clients/oss';
import type { Runtime } from '../config/load';
import { previousRuntimeAuditKey, runtimeAuditKey } from '../config/secrets';
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
  /** Which attempt of `change` this is, so that an intent key someone else took can be passed for the next. */
  attempt: number;
  audit: LedgerAudit;
  change: LedgerChange;
}

/** Where the audit records are, and the keys that sign them. */
export interface LedgerAudit {
  gateway: OssGateway;
  bucket: string;
  prefix: string;
  key: AuditKey | undefined;
  previousKey?: AuditKey | undefined;
}

/** The audit bucket a runtime writes to, reached through `gateway`, with the audit key and its previous version. */
export const ledgerAuditOf = (runtime: Runtime, gateway: OssGateway): LedgerAudit => ({
  gateway,
  bucket: runtime.config.audit.bucket,
  prefix: runtime.config.audit.prefix,
  key: runtimeAuditKey(runtime),
  previousKey: previousRuntimeAuditKey(runtime),
});

type LedgerChange = Pick<ChangeRecord, 'dedupeKey' | 'time' | 'origin'>;

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
 * decided again under the next attempt's keys (`<dedupeKey>#attempt-<suffix>`, attemptKey), since records are
 * write-once.
 */
export async function openLedger(audit: LedgerAudit, change: LedgerChange, from = 1): Promise<LedgerOpening> {
  const retryFailed = change.origin === 'lookup-events';
  for (let attempt = from; ; attempt++) {
    const ledger = ledgerAt(audit, change, attempt);
    const state = await recordState(ledger, retryFailed);
    if (state === 'handled') return { kind: 'handled', ledger };
    // Before the audit key's rotation, this attempt's key was the previous key's MAC (attemptKey).
    const rotated =
      state === 'absent' && attempt > 1 && audit.previousKey
        ? ledgerAt(audit, change, attempt, audit.previousKey)
        : undefined;
    if (rotated && (await recordState(rotated, retryFailed)) === 'handled')
      return { kind: 'handled', ledger: rotated };
    if (state === 'absent' || attempt >= MAX_ATTEMPTS)
      return { kind: 'open', ledger, dedupeKey: ledger.dedupeKey };
  }
}

/**
 * The change's key for an attempt after the first. Its suffix is a MAC under the audit key: someone who can
 * write the audit bucket can predict the first attempt's keys (the day and a hash of the event id), and would
 * otherwise take every attempt's too, so that a change's record is never kept and its alert repeats each
 * run. The first attempt's key is the change's own, as records written before this suffix existed have it.
 * Without an audit key nothing can be believed anyway, and the suffix is the attempt's number.
 */
function attemptKey(dedupeKey: string, attempt: number, key: AuditKey | undefined): string {
  if (attempt === 1) return dedupeKey;
  const suffix = key ? macOf({ dedupeKey, attempt }, key).slice(0, 32) : String(attempt);
  return `${dedupeKey}#attempt-${suffix}`;
}

/** The record of a change whose intent or claim went past a planted one, to the next attempt's keys. */
export const movedTo = <R extends { dedupeKey: string }>(ledger: ChangeLedger, record: R) => ({
  record: { ...record, dedupeKey: ledger.dedupeKey },
  recordKey: ledger.recordKey,
});

/** Where the records of `change`'s attempt `attempt` live, its key made with `suffixKey` (attemptKey). */
function ledgerAt(
  audit: LedgerAudit,
  change: LedgerChange,
  attempt: number,
  suffixKey = audit.key,
): ChangeLedger {
  const dedupeKey = attemptKey(change.dedupeKey, attempt, suffixKey);
  return {
    gateway: audit.gateway,
    bucket: audit.bucket,
    dedupeKey,
    recordKey: auditKey(audit.prefix, dedupeKey, change.time),
    intentKey: intentKey(audit.prefix, dedupeKey, change.time),
    auditKey: audit.key,
    previousKey: audit.previousKey,
    attempt,
    audit,
    change,
  };
}

/**
 * The record at the ledger's key: `absent`, the record if it verifies and is about this change, or
 * `untrusted` for anything else there.
 */
export async function ledgerRecord(at: ChangeLedger): Promise<AuditRecord | 'absent' | 'untrusted'> {
  // Most changes are new: a HEAD says so without the error body a GET of a missing key answers, which the
  // SDK parses as XML (BENCHMARKS.md, burst). Only a record that is there is read.
  if (!(await at.gateway.objectExists(at.bucket, at.recordKey))) return 'absent';
  return believableAt(at, at.recordKey);
}

/** The intent or claim at the ledger's key, as `ledgerRecord` reads its record. */
const ledgerIntent = (at: ChangeLedger): Promise<AuditRecord | 'absent' | 'untrusted'> =>
  believableAt(at, at.intentKey);

/**
 * The most of a record, intent or claim read back, and the most objects and arrays in it. A bucket policy of
 * 16 KB (F-OSS-POLICY-SIZE) built of many small statements makes one change's findings about 650 KB, with about
 * 5,000 objects and 4,000 arrays; a batch reads up to 16 at once, and JSON built to be costly to parse (a
 * million empty objects) takes some twenty times its size in memory. An object past either bound is taken as
 * planted: the change goes on under its next attempt's keys.
 */
const LEDGER_MAX_BYTES = 2 * 1024 * 1024;
const LEDGER_MAX_NESTINGS = 100_000;

/** How many `{` and `[` bytes the body holds: at least as many as the objects and arrays a parse would build. */
function nestings(body: Buffer): number {
  let count = 0;
  for (const byte of body) if (byte === 0x7b || byte === 0x5b) count += 1;
  return count;
}

async function believableAt(at: ChangeLedger, key: string): Promise<AuditRecord | 'absent' | 'untrusted'> {
  let body: Buffer;
  try {
    body = await at.gateway.getObject(at.bucket, key, LEDGER_MAX_BYTES);
  } catch (error) {
    if (isNotFound(error)) return 'absent';
    // Larger than any record or intent ossguard writes: planted, as an object that does not verify is.
    if (isTooLarge(error)) return 'untrusted';
    throw error;
  }
  if (nestings(body) > LEDGER_MAX_NESTINGS) return 'untrusted';
  const { record } = parseStored(key, body);
  return record && believable(record, at) ? record : 'untrusted';
}

/**
 * Signed with the audit key, and about this change: whoever can write the audit bucket cannot sign a record,
 * but could copy a signed one to the key of a change it wants ignored.
 */
const believable = (record: AuditRecord, at: ChangeLedger): boolean =>
  record.dedupeKey === at.dedupeKey && isTrustedRecordEither(record, at.auditKey, at.previousKey);

async function recordState(
  at: ChangeLedger,
  retryFailed: boolean,
): Promise<'absent' | 'handled' | 'unsettled'> {
  const record = await ledgerRecord(at);
  if (record === 'absent') return 'absent';
  return record !== 'untrusted' && (isCompleted(record) || !retryFailed) ? 'handled' : 'unsettled';
}

/**
 * Where this delivery's intent (or claim) stands: `free` when it wrote it (or, only reading, found none),
 * `held` when another delivery's is there, `handled` when a later attempt's record settles the change.
 */
export type IntentPlacement =
  | { kind: 'free'; ledger: ChangeLedger }
  | { kind: 'held'; ledger: ChangeLedger; intent: AuditRecord }
  | { kind: 'handled'; ledger: ChangeLedger };

/**
 * Writes (or, with no `body`, reads) the ledger's intent, write-once. What is there already is another
 * delivery's only if it is believable: an object planted by someone who can write the audit bucket must
 * neither mute the change's alert nor pass its revert off as another's. The change then goes on under the
 * next attempt's keys, as it does past a planted record (openLedger), so that its records are not lost
 * beside the planted one; the other path delivering the same change passes the same planted object and
 * meets this delivery's intent there, so the change is still alerted on once.
 */
async function placeIntent(
  at: ChangeLedger,
  body?: (ledger: ChangeLedger) => string,
): Promise<IntentPlacement> {
  for (let ledger = at; ; ) {
    if (
      body &&
      (await ledger.gateway.putObjectIfAbsent(ledger.bucket, ledger.intentKey, body(ledger))) !== 'exists'
    )
      return { kind: 'free', ledger };
    const intent = await ledgerIntent(ledger);
    if (intent !== 'absent' && intent !== 'untrusted') return { kind: 'held', ledger, intent };
    if ((intent === 'absent' && !body) || ledger.attempt >= MAX_ATTEMPTS) return { kind: 'free', ledger };
    const next = await openLedger(ledger.audit, ledger.change, ledger.attempt + 1);
    if (next.kind === 'handled') return { kind: 'handled', ledger: next.ledger };
    ledger = next.ledger;
  }
}

/** The signed intent of `decision` on the change, about the attempt it is written under. */
const intentOf =
  (record: UnsignedAuditRecord, decision: Decision, calls: CallLog) =>
  (at: ChangeLedger): string =>
    JSON.stringify(sign(withDecision({ ...record, dedupeKey: at.dedupeKey }, decision, calls), at.auditKey));

/**
 * The intent goes out before the revert: if the record is lost after the revert, the redelivery finds the
 * resource fixed and finishes the record from the intent instead of recording `skipped`. The other delivery,
 * reading the reverted state, must find the intent to know the revert was this one's. This costs the resource
 * one round trip of exposure (measured with the intent sent alongside instead: time-to-remediate p50 27 → 40 ms
 * at 10 ms per call). Returns where the intent stands (`placeIntent`: `held` when another delivery of the
 * event holds it, `handled` when a later attempt's record settles the change), and the ledger the change's
 * record goes under.
 */
export async function writeIntent(
  at: ChangeLedger,
  record: UnsignedAuditRecord,
  planned: Decision,
  calls: CallLog,
  log: Logger,
): Promise<{ intent: IntentPlacement['kind']; ledger: ChangeLedger }> {
  try {
    const placed = await placeIntent(at, intentOf(record, planned, calls));
    return { intent: placed.kind, ledger: placed.ledger };
  } catch (error) {
    // The revert goes out regardless, and the record may still be written. A delivery that finds the resource
    // fixed and no intent records `skipped`: the redelivery, if this record is not written either, or the
    // event's other path (EventBridge and the trail), if it records first (the soak lists both).
    log.warn('intent record could not be written', {
      eventId: record.eventId,
      intentKey: at.intentKey,
      error: describeError(error),
    });
    return { intent: 'free', ledger: at };
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
  const found = await placeIntent(at);
  if (found.kind === 'free') return undefined;
  if (found.kind === 'handled' || (await recordAppears(found.ledger)))
    return duplicateOf(record, found.ledger.recordKey, 'already handled by another delivery');
  const completed = completeFromIntent(found.intent, found.ledger, now, calls);
  return { kind: 'record', pending: { key: found.ledger.recordKey, record: completed } };
}

/**
 * No revert announced an intent: claim the change before alerting, so that a second path delivering the same
 * event (EventBridge and the trail) does not alert again while this one is under way. A claim whose record
 * never appears was left by a delivery that died; this one takes over. `claimed`: the claim is this
 * delivery's, under the ledger its record goes to.
 */
export async function claimAlert(
  at: ChangeLedger,
  record: UnsignedAuditRecord,
  decision: Decision,
  calls: CallLog,
  now: Date,
): Promise<ItemOutcome | { kind: 'claimed'; ledger: ChangeLedger }> {
  const placed = await placeIntent(at, intentOf(record, decision, calls));
  if (placed.kind === 'free') return { kind: 'claimed', ledger: placed.ledger };
  if (placed.kind === 'handled' || (await recordAppears(placed.ledger)))
    return duplicateOf(record, placed.ledger.recordKey, 'already handled by another delivery');
  // Still under way (alerts may wait on a channel's rate limit): try again later rather than alert twice.
  if (!claimOutlivedItsHolder(placed.intent, now)) {
    return retryOf(record.eventId, 'another delivery of this event is alerting on it', true);
  }
  return { kind: 'claimed', ledger: placed.ledger };
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
 * older than that, with no record, was left by a delivery that died. The claim is believable (placeIntent),
 * so its `decidedAt` is the holder's own; one that does not parse is taken as outlived, and so is one dated
 * further ahead than the clocks of two instances differ (CLOCK_SKEW_MS), which would otherwise never expire.
 */
const CLAIM_LIFETIME_MS = 60_000;

const claimOutlivedItsHolder = (claim: AuditRecord, now: Date): boolean => {
  const age = now.getTime() - Date.parse(claim.decidedAt);
  return !(age <= CLAIM_LIFETIME_MS && age >= -CLOCK_SKEW_MS);
};

/**
 * The record of a revert an earlier delivery made but could not record: its (believable) intent, with the
 * live state read now as `after` (the revert is idempotent and the state now passes, so it took effect). No
 * alert: the earlier delivery sent it before writing the record, and a second email cannot be taken back.
 */
function completeFromIntent(
  intent: AuditRecord,
  at: ChangeLedger,
  now: Decision,
  calls: CallLog,
): UnsignedAuditRecord {
  const { digest: _digest, mac: _mac, macKeyId: _macKeyId, ...planned } = intent;
  return {
    ...planned,
    ...(now.before ? { after: now.before } : {}),
    reason: `${planned.reason} (recorded by a redelivery: ${now.reason})`,
    requestIds: [...planned.requestIds, ...calls.entries],
    alerts: [],
    completedFrom: at.intentKey,
  };
}
