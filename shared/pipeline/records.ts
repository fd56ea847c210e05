import { createHash } from 'node:crypto';
import { type AuditRecord, auditKey, type DecisionKind, type UnsignedAuditRecord } from '../audit/record';
import type { CallLog } from '../clients/calllog';
import { CloudApiError, describeError, GuardError } from '../errors';
import type { ChangeRecord, ParsedItem } from '../events/types';
import type { Logger } from '../log';
import { ossguardVersion } from '../version';
import type { Decision } from './types';

export interface DecisionSummary {
  eventId: string;
  eventName?: string;
  decision: DecisionKind | 'duplicate';
  reason: string;
  rules: string[];
  resource: ChangeRecord['resources'];
  auditKey?: string;
}

/** A record to write, under its audit key, and whether it is alerted on first. */
export interface Pending {
  record: UnsignedAuditRecord;
  key: string;
  alert?: { advice: string[] };
}

/** How one change ended in the per-change stages: already handled, to be redelivered, or to be recorded. */
export type ItemOutcome =
  | { kind: 'duplicate'; summary: DecisionSummary }
  | { kind: 'retry'; failure: { eventId: string; error: string; held?: true } }
  /** Held back by the blast-radius cap: not recorded, so that a follow-up invocation judges it afresh. */
  | { kind: 'capped'; eventId: string }
  | { kind: 'record'; pending: Pending };

/** The dedupe key of an event a guard did not judge: ignored (not its event) or invalid (unreadable). */
export const notJudgedKey = (
  kind: 'ignored' | 'invalid' | 'capped' | 'outside',
  guard: string,
  eventId: string,
): string => `${kind}:${guard}:${eventId}`;

/** Whether an audit record's dedupe key is that of a judged change, not of an event left unjudged. */
export const wasJudged = (dedupeKey: string): boolean =>
  !/^(ignored|invalid|capped|outside):/.test(dedupeKey);

/**
 * The one alerted record of an invocation about several of its changes (what the cap held back, …), keyed by
 * the invocation unless `keyedBy` names what every delivery of the same changes shares, and filed under `time`.
 */
export function invocationSummary(
  guard: string,
  about: { kind: 'capped' | 'outside'; id: string; eventName: string; reason: string; advice?: string[] },
  at: { invocationId: string; auditPrefix: string; now: Date; keyedBy?: string; time?: string },
): Pending {
  const eventId = `${at.invocationId}#${about.id}`;
  const dedupeKey = notJudgedKey(about.kind, guard, at.keyedBy ?? at.invocationId);
  const record: UnsignedAuditRecord = {
    ...baseRecord(guard, { eventId, dedupeKey, eventName: about.eventName }, at.now),
    ...(at.time ? { time: at.time } : {}),
    decision: 'alerted',
    reason: about.reason,
  };
  return {
    record,
    key: auditKey(at.auditPrefix, record.dedupeKey, record.time),
    alert: { advice: about.advice ?? [] },
  };
}

/**
 * The one record and alert of a batch whose blast-radius cap held changes back: how many waited, and that a
 * follow-up invocation judges them (EventBridge's redelivery, or trail-guard's deferred-work queue). Keyed by
 * the batch, not by the invocation: EventBridge redelivers a capped batch with the same event ids
 * (F-EVENTBRIDGE-DEDUPE) under a new FC request id, and its summary must find the first one's record.
 */
export function cappedSummary(
  guard: string,
  waited: number,
  at: { invocationId: string; batch: CappedBatch; cap: number; auditPrefix: string; now: Date },
): Pending {
  return invocationSummary(
    guard,
    {
      kind: 'capped',
      id: 'blast-radius-cap',
      eventName: 'BlastRadiusCap',
      reason: `blast-radius cap of ${at.cap} remediations per invocation reached: ${waited} change(s) waited and are handed to a follow-up invocation`,
    },
    { ...at, keyedBy: at.batch.id, time: at.batch.time },
  );
}

/** What a cap summary is keyed by: an id the same on every delivery of the batch, and the day it files under. */
export interface CappedBatch {
  id: string;
  time: string;
}

/**
 * A batch of changes as every delivery of it sees it: its changes' event ids, and the earliest event time
 * (the time of an unjudged item is not in the batch, so `now` stands in when there is no change).
 */
export function cappedBatchOf(items: readonly ParsedItem[], now: Date): CappedBatch {
  const changes = items.flatMap((item) => (item.kind === 'change' ? [item.record] : []));
  const ids = changes.map((c) => c.eventId).sort();
  const times = changes.map((c) => Date.parse(c.time)).filter((t) => !Number.isNaN(t));
  return {
    id: createHash('sha256').update(ids.join('\n')).digest('hex').slice(0, 32),
    time: new Date(times.length > 0 ? Math.min(...times) : now.getTime()).toISOString(),
  };
}

/** A decision carried through: only such a record means its change was handled; a failed attempt is retried. */
export const isCompleted = (record: Pick<AuditRecord, 'decision'>): boolean => record.decision !== 'failed';

export function baseRecord(
  guard: string,
  ids: { eventId: string; dedupeKey: string; eventName: string },
  now: Date,
): UnsignedAuditRecord {
  return {
    schemaVersion: 1,
    ...ids,
    eventType: 'unknown',
    time: now.toISOString(),
    decidedAt: now.toISOString(),
    guard,
    region: 'unknown',
    actor: { type: 'unknown' },
    resource: {},
    rules: [],
    decision: 'skipped',
    reason: '',
    dryRun: false,
    ossguardVersion,
    requestIds: [],
    alerts: [],
  };
}

export function changeRecord(guard: string, change: ChangeRecord, now: Date): UnsignedAuditRecord {
  return {
    ...baseRecord(guard, change, now),
    eventType: change.eventType,
    time: change.time,
    region: change.region,
    ...(change.accountId ? { accountId: change.accountId } : {}),
    actor: change.actor,
    resource: change.resources,
  };
}

export function withDecision(
  record: UnsignedAuditRecord,
  decision: Decision,
  calls: CallLog,
): UnsignedAuditRecord {
  return {
    ...record,
    decision: decision.decision,
    reason: decision.reason,
    rules: decision.findings,
    ...(decision.before ? { before: decision.before } : {}),
    ...(decision.after ? { after: decision.after } : {}),
    ...(decision.exception ? { exception: decision.exception } : {}),
    ...(decision.ignoredExceptions ? { ignoredExceptions: decision.ignoredExceptions } : {}),
    ...(decision.remediatedBy ? { remediatedBy: decision.remediatedBy } : {}),
    dryRun: decision.decision === 'dry-run',
    requestIds: calls.entries,
  };
}

export function pendingOf(record: UnsignedAuditRecord, prefix: string): ItemOutcome {
  return { kind: 'record', pending: { key: auditKey(prefix, record.dedupeKey, record.time), record } };
}

export function failedRecord(
  record: UnsignedAuditRecord,
  error: unknown,
  calls: CallLog,
): UnsignedAuditRecord {
  return {
    ...record,
    decision: 'failed',
    reason: describeError(error),
    requestIds: calls.entries,
    error: errorFields(error),
  };
}

function errorFields(error: unknown): NonNullable<AuditRecord['error']> {
  if (error instanceof CloudApiError) return { name: error.name, message: error.message, code: error.code };
  if (error instanceof GuardError) return { name: error.name, message: error.message };
  return { name: 'Error', message: describeError(error) };
}

export function summaryOf(
  record: UnsignedAuditRecord,
  decision: DecisionSummary['decision'],
  key: string,
): DecisionSummary {
  return {
    eventId: record.eventId,
    eventName: record.eventName,
    decision,
    reason: record.reason,
    rules: record.rules.map((r) => r.ruleId),
    resource: record.resource,
    auditKey: key,
  };
}

export const duplicateOf = (record: UnsignedAuditRecord, key: string, reason: string): ItemOutcome => ({
  kind: 'duplicate',
  summary: { ...summaryOf(record, 'duplicate', key), reason },
});

/** `held`: another delivery of the change is under way; only a redelivery of the same input settles it. */
export const retryOf = (eventId: string, error: string, held = false): ItemOutcome => ({
  kind: 'retry',
  failure: { eventId, error, ...(held ? { held: true as const } : {}) },
});

/**
 * An event the guard does not handle, or cannot read. Keyed apart from the change itself: a guard that does
 * not handle an event (or cannot read it) must not leave a record that the guard handling it, on another
 * path, would take for its own.
 */
export function notJudged(
  guard: string,
  item: Exclude<ParsedItem, { kind: 'change' }>,
  at: { invocationId: string; auditPrefix: string; now: Date; log: Logger },
): ItemOutcome {
  const eventId =
    (item.kind === 'ignored' ? item.eventId : item.error.context.eventId) ??
    `${at.invocationId}#${item.index}`;
  if (item.kind === 'invalid')
    at.log.warn('invalid event', { eventId, index: item.index, error: item.error.message });
  const ids = {
    eventId,
    dedupeKey: notJudgedKey(item.kind, guard, eventId),
    eventName: item.kind === 'ignored' ? (item.eventName ?? 'unknown') : 'unknown',
  };
  const record = baseRecord(guard, ids, at.now);
  return pendingOf(
    item.kind === 'ignored'
      ? { ...record, decision: 'skipped', reason: item.reason }
      : {
          ...record,
          decision: 'failed',
          reason: `invalid event: ${item.error.message}`,
          error: { name: item.error.name, message: item.error.message },
        },
    at.auditPrefix,
  );
}

/**
 * An `eventTime` that is no time would file the record under 1970 (`auditKey`): the record goes under the time
 * the change was received instead, and keeps the text it came with. Redeliveries on the same UTC day share the
 * key; one across midnight may be recorded twice.
 */
export function dated(change: ChangeRecord, now: Date): { change: ChangeRecord; eventTimeUnparsed?: string } {
  if (!Number.isNaN(Date.parse(change.time))) return { change };
  return { change: { ...change, time: now.toISOString() }, eventTimeUnparsed: change.time };
}

/** A change not finished: the invocation fails so it is delivered again (or, capped, judged by a follow-up). */
export type RetryableFailure = { eventId: string; error: string; capped?: true; held?: true };

const CAPPED = 'held back by the blast-radius cap: a follow-up invocation judges it';

/** A batch's outcomes sorted: decisions already made, failures that fail the invocation, records to write. */
export function sortOutcomes(
  outcomes: readonly ItemOutcome[],
  repeats: readonly DecisionSummary[],
  log: Logger,
): { decisions: DecisionSummary[]; retryableFailures: RetryableFailure[]; pending: Pending[] } {
  const decisions = [...repeats];
  const retryableFailures: RetryableFailure[] = [];
  const pending: Pending[] = [];
  for (const outcome of outcomes) {
    if (outcome.kind === 'duplicate') decisions.push(outcome.summary);
    else if (outcome.kind === 'retry') {
      retryableFailures.push(outcome.failure);
      log.warn('change not finished; the invocation will fail so EventBridge redelivers', outcome.failure);
    } else if (outcome.kind === 'capped') {
      retryableFailures.push({ eventId: outcome.eventId, error: CAPPED, capped: true });
    } else pending.push(outcome.pending);
  }
  return { decisions, retryableFailures, pending };
}
