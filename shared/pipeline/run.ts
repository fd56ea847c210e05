import { alertFor } from '../alerts/build';
import type { AlertDispatcher } from '../alerts/dispatch';
import type { DeliveryResult } from '../alerts/types';
import {
  type AuditRecord,
  auditKey,
  type DecisionKind,
  digestOf,
  intentKey,
  sign,
  type UnsignedAuditRecord,
} from '../audit/record';
import { parseStored } from '../audit/store';
import { CallLog } from '../clients/calllog';
import { isNotFound, type OssClientFactory, OssGateway } from '../clients/oss';
import { type RamApi, RamGateway } from '../clients/ram';
import type { Runtime } from '../config/load';
import { CloudApiError, describeError, GuardError } from '../errors';
import { parseEvents } from '../events/parse';
import type { Actor, ChangeRecord, ParsedItem } from '../events/types';
import type { Logger } from '../log';
import { ossguardVersion } from '../version';
import { type ChangeScope, type Decision, type Guard, RemediationBudget } from './types';

export interface InvocationDeps {
  runtime: Runtime;
  oss: OssClientFactory;
  ram?: RamApi;
  /** The function's region: where the audit bucket is unless the config names another. */
  region: string;
  dispatch: AlertDispatcher;
  log: Logger;
  /** Identifies the invocation, for audit keys of input that carries no event id. */
  invocationId: string;
  now?: () => Date;
}

export interface DecisionSummary {
  eventId: string;
  eventName?: string;
  decision: DecisionKind | 'duplicate';
  reason: string;
  rules: string[];
  resource: ChangeRecord['resources'];
  auditKey?: string;
}

export interface InvocationResult {
  decisions: DecisionSummary[];
  /** Changes not finished (cloud faults after retries, an intent held elsewhere); the handler fails the invocation so EventBridge redelivers. */
  retryableFailures: Array<{ eventId: string; error: string }>;
}

/** How many changes of one batch are worked on at once: enough to overlap round trips, bounded for memory. */
const CONCURRENCY = 16;

interface Pending {
  record: UnsignedAuditRecord;
  key: string;
  alert?: { advice: string[] };
}

/**
 * The pipeline every guard shares: parse → skip what must be skipped → re-read live state → decide and act
 * → alert → audit. A bad element, an unknown event or a failing channel never stops the rest of the batch.
 */
export async function runGuard<State>(
  guard: Guard<State>,
  body: unknown,
  deps: InvocationDeps,
): Promise<InvocationResult> {
  const { config } = deps.runtime;
  const now = deps.now ?? (() => new Date());
  const auditGateway = new OssGateway(deps.oss, config.audit.region ?? deps.region, new CallLog());
  const budget = new RemediationBudget(config.maxRemediationsPerInvocation);
  const items = parseEvents(body, { accept: new Set(guard.events) });

  const decisions: DecisionSummary[] = [];
  const retryableFailures: InvocationResult['retryableFailures'] = [];
  const pending: Pending[] = [];

  // Delivery is at least once, so a batch may hold one event twice. Handled concurrently, both copies would
  // pass the audit-existence check, and revert and alert twice: only the first copy is handled.
  const seen = new Set<string>();
  const unique = items.filter((item) => {
    if (item.kind !== 'change') return true;
    const change = item.record;
    if (!seen.has(change.dedupeKey)) {
      seen.add(change.dedupeKey);
      return true;
    }
    const key = auditKey(config.audit.prefix, change.dedupeKey, change.time);
    decisions.push({
      ...summaryOf(changeRecord(guard.name, change, now()), 'duplicate', key),
      reason: 'already handled: the same event came earlier in this batch',
    });
    return false;
  });

  await forEachLimited(unique, CONCURRENCY, async (item) => {
    const outcome = await handleItem(guard, item, deps, auditGateway, budget, now);
    if (outcome.kind === 'duplicate') {
      decisions.push(outcome.summary);
    } else if (outcome.kind === 'retry') {
      retryableFailures.push(outcome.failure);
      deps.log.warn('change not finished; the invocation will fail so EventBridge redelivers', {
        eventId: outcome.failure.eventId,
        error: outcome.failure.error,
      });
    } else {
      pending.push(outcome.pending);
    }
  });

  const alerts = pending.filter((p) => p.alert).map((p) => alertFor(p.record, p.alert?.advice));
  const deliveries = alerts.length > 0 ? await deps.dispatch(alerts) : new Map<string, DeliveryResult[]>();

  await forEachLimited(pending, CONCURRENCY, async ({ record, key }) => {
    const signed = sign({ ...record, alerts: deliveries.get(record.dedupeKey) ?? [] });
    try {
      const written = await auditGateway.putObjectIfAbsent(config.audit.bucket, key, JSON.stringify(signed));
      decisions.push(summaryOf(signed, written === 'exists' ? 'duplicate' : signed.decision, key));
    } catch (error) {
      retryableFailures.push({
        eventId: signed.eventId,
        error: `audit write failed: ${describeError(error)}`,
      });
      deps.log.error('audit record could not be written', {
        eventId: signed.eventId,
        auditKey: key,
        error: describeError(error),
      });
    }
  });

  for (const d of decisions) {
    deps.log.info('decision', {
      guard: guard.name,
      eventId: d.eventId,
      eventName: d.eventName,
      decision: d.decision,
      reason: d.reason,
      rules: d.rules.join(','),
    });
  }
  return { decisions, retryableFailures };
}

type ItemOutcome =
  | { kind: 'duplicate'; summary: DecisionSummary }
  | { kind: 'retry'; failure: { eventId: string; error: string } }
  | { kind: 'record'; pending: Pending };

async function handleItem<State>(
  guard: Guard<State>,
  item: ParsedItem,
  deps: InvocationDeps,
  auditGateway: OssGateway,
  budget: RemediationBudget,
  now: () => Date,
): Promise<ItemOutcome> {
  const { config } = deps.runtime;
  if (item.kind !== 'change') {
    const eventId =
      (item.kind === 'ignored' ? item.eventId : item.error.context.eventId) ??
      `${deps.invocationId}#${item.index}`;
    const reason = item.kind === 'ignored' ? item.reason : `invalid event: ${item.error.message}`;
    if (item.kind === 'invalid')
      deps.log.warn('invalid event', { eventId, index: item.index, error: item.error.message });
    // Keyed apart from the change itself: a guard that does not handle an event (or cannot read it) must
    // not leave a record that the guard handling it, on another path, would take for its own.
    const record = baseRecord(
      guard.name,
      {
        eventId,
        dedupeKey: notJudgedKey(item.kind, guard.name, eventId),
        eventName: item.kind === 'ignored' ? (item.eventName ?? 'unknown') : 'unknown',
      },
      now(),
    );
    const decision: DecisionKind = item.kind === 'ignored' ? 'skipped' : 'failed';
    return pendingOf(
      {
        ...record,
        decision,
        reason,
        ...(item.kind === 'invalid' ? { error: { name: item.error.name, message: item.error.message } } : {}),
      },
      config.audit.prefix,
    );
  }

  const change = item.record;
  const skip = skipReason(change, config.ownRoleName);
  const record = changeRecord(guard.name, change, now());
  if (skip) return pendingOf({ ...record, decision: 'skipped', reason: skip }, config.audit.prefix);

  const key = auditKey(config.audit.prefix, change.dedupeKey, change.time);
  const intent = intentKey(config.audit.prefix, change.dedupeKey, change.time);
  const calls = new CallLog();
  let intentHeld = false;
  const scope: ChangeScope = {
    config,
    oss: new OssGateway(deps.oss, change.region, calls),
    audit: new OssGateway(deps.oss, config.audit.region ?? deps.region, calls),
    ...(deps.ram ? { ram: new RamGateway(deps.ram, calls) } : {}),
    calls,
    budget: {
      take: () => budget.take(),
      // The intent goes out with the revert: if the record is lost after the revert, the redelivery finds
      // the resource fixed and finishes the record from the intent instead of recording `skipped`.
      starting: async (planned) => {
        const body = JSON.stringify(sign(withDecision(record, planned, calls)));
        try {
          intentHeld = (await auditGateway.putObjectIfAbsent(config.audit.bucket, intent, body)) === 'exists';
        } catch (error) {
          // The revert is on its way regardless, and the record may still be written. Only if that fails
          // too does the redelivery find a fixed resource without an intent, and record `skipped`.
          deps.log.warn('intent record could not be written', {
            eventId: change.eventId,
            intentKey: intent,
            error: describeError(error),
          });
        }
      },
    },
    now: now(),
    log: deps.log,
  };
  try {
    const [audited, observation] = await Promise.allSettled([
      auditGateway.objectExists(config.audit.bucket, key),
      guard.observe(change, scope),
    ]);
    if (audited.status === 'fulfilled' && audited.value) {
      return {
        kind: 'duplicate',
        summary: {
          ...summaryOf(record, 'duplicate', key),
          reason: 'already handled: an audit record exists for this event',
        },
      };
    }
    if (audited.status === 'rejected') throw audited.reason;
    if (observation.status === 'rejected') throw observation.reason;
    const live = observation.value;
    const decision: Decision =
      live.kind === 'gone'
        ? { decision: 'skipped', reason: live.reason, findings: [] }
        : await guard.decide(change, live.state, scope);
    if (intentHeld) {
      // Another delivery of this event announced the same revert first. Reverting again was harmless; its
      // alert and record are that delivery's, and one sent here would repeat them. If it died before writing
      // the record, the redelivery this failure causes finishes it from the intent.
      return {
        kind: 'retry',
        failure: { eventId: change.eventId, error: 'another delivery of this event holds its intent record' },
      };
    }
    if (decision.decision === 'skipped') {
      const completed = await completeFromIntent(auditGateway, config.audit.bucket, intent, decision, calls);
      // Another path (EventBridge and the trail deliver the same change) may be sending its alert right now:
      // its record is the true one. Only a delivery that died leaves the intent without a record.
      if (completed && (await recordAppears(auditGateway, config.audit.bucket, key))) {
        return {
          kind: 'duplicate',
          summary: { ...summaryOf(record, 'duplicate', key), reason: 'already handled by another delivery' },
        };
      }
      if (completed) return { kind: 'record', pending: { key, record: completed } };
    }
    const alerting = ['remediated', 'alerted', 'dry-run'].includes(decision.decision);
    if (alerting && decision.decision !== 'remediated') {
      // No revert announced an intent: claim the change before alerting, so that a second path delivering
      // the same event (EventBridge and the trail) does not alert again while this one is under way. A claim
      // whose record never appears was left by a delivery that died; this one takes over.
      const claim = JSON.stringify(sign(withDecision(record, decision, calls)));
      const claimed = await auditGateway.putObjectIfAbsent(config.audit.bucket, intent, claim);
      if (claimed === 'exists') {
        if (await recordAppears(auditGateway, config.audit.bucket, key)) {
          return {
            kind: 'duplicate',
            summary: {
              ...summaryOf(record, 'duplicate', key),
              reason: 'already handled by another delivery',
            },
          };
        }
        // Still under way (alerts may wait on a channel's rate limit): try again later rather than alert twice.
        if (!(await claimOutlivedItsHolder(auditGateway, config.audit.bucket, intent, now()))) {
          return {
            kind: 'retry',
            failure: { eventId: change.eventId, error: 'another delivery of this event is alerting on it' },
          };
        }
      }
    }
    const alert = alerting ? { alert: { advice: decision.advice ?? [] } } : {};
    return { kind: 'record', pending: { key, record: withDecision(record, decision, calls), ...alert } };
  } catch (error) {
    if (error instanceof CloudApiError && error.retryable) {
      return { kind: 'retry', failure: { eventId: change.eventId, error: describeError(error) } };
    }
    const failed: UnsignedAuditRecord = {
      ...record,
      decision: 'failed',
      reason: describeError(error),
      requestIds: calls.entries,
      error: errorFields(error),
    };
    return { kind: 'record', pending: { key, record: failed, alert: { advice: [] } } };
  }
}

/** How long a delivery that found another's intent waits for that delivery's record: its alert and write. */
const INTENT_RECORD_WAIT_MS = 10_000;
const INTENT_RECORD_FIRST_POLL_MS = 100;
const INTENT_RECORD_MAX_POLL_MS = 1_000;

async function recordAppears(gateway: OssGateway, bucket: string, key: string): Promise<boolean> {
  let delay = INTENT_RECORD_FIRST_POLL_MS;
  for (let waited = 0; waited < INTENT_RECORD_WAIT_MS; waited += delay) {
    delay = Math.min(delay * 2, INTENT_RECORD_MAX_POLL_MS);
    await new Promise((resolve) => setTimeout(resolve, delay));
    if (await gateway.objectExists(bucket, key)) return true;
  }
  return false;
}

/**
 * A delivery cannot run longer than its function's timeout (60 s for the event guards in s.yaml): a claim
 * older than that, with no record, was left by a delivery that died.
 */
const CLAIM_LIFETIME_MS = 60_000;

async function claimOutlivedItsHolder(gateway: OssGateway, bucket: string, key: string, now: Date) {
  try {
    const { record } = parseStored(key, await gateway.getObject(bucket, key));
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
  gateway: OssGateway,
  bucket: string,
  key: string,
  now: Decision,
  calls: CallLog,
): Promise<UnsignedAuditRecord | undefined> {
  let body: Buffer;
  try {
    body = await gateway.getObject(bucket, key);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
  const { record } = parseStored(key, body);
  if (!record) return undefined;
  const { digest, ...planned } = record;
  if (digestOf(planned) !== digest) return undefined;
  return {
    ...planned,
    ...(now.before ? { after: now.before } : {}),
    reason: `${planned.reason} (recorded by a redelivery: ${now.reason})`,
    requestIds: [...planned.requestIds, ...calls.entries],
    alerts: [],
    completedFrom: key,
  };
}

/** The dedupe key of an event a guard did not judge: ignored (not its event) or invalid (unreadable). */
export const notJudgedKey = (kind: 'ignored' | 'invalid', guard: string, eventId: string): string =>
  `${kind}:${guard}:${eventId}`;

/** Whether an audit record's dedupe key is that of a judged change, not of an event left unjudged. */
export const wasJudged = (dedupeKey: string): boolean => !/^(ignored|invalid):/.test(dedupeKey);

/** Changes that must not be judged: failed calls changed nothing, and our own reverts must not loop. */
export function skipReason(change: ChangeRecord, ownRoleName: string): string | undefined {
  if (change.errorCode) return `the API call failed (${change.errorCode}), so nothing changed`;
  if (isOwnRole(change.actor, ownRoleName))
    return `made by ossguard's own role ${ownRoleName} (loop prevention)`;
  return undefined;
}

/** `userName` of an assumed role is `RoleName:RoleSessionName`; fc3 lower-cases role names, so compare without case. */
export function isOwnRole(actor: Actor, ownRoleName: string): boolean {
  if (actor.type !== 'assumed-role') return false;
  const role = ownRoleName.toLowerCase();
  const name = (actor.userName ?? '').toLowerCase();
  return name === role || name.startsWith(`${role}:`);
}

function baseRecord(
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

function changeRecord(guard: string, change: ChangeRecord, now: Date): UnsignedAuditRecord {
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

function withDecision(record: UnsignedAuditRecord, decision: Decision, calls: CallLog): UnsignedAuditRecord {
  return {
    ...record,
    decision: decision.decision,
    reason: decision.reason,
    rules: decision.findings,
    ...(decision.before ? { before: decision.before } : {}),
    ...(decision.after ? { after: decision.after } : {}),
    ...(decision.exception ? { exception: decision.exception } : {}),
    ...(decision.ignoredExceptions ? { ignoredExceptions: decision.ignoredExceptions } : {}),
    dryRun: decision.decision === 'dry-run',
    requestIds: calls.entries,
  };
}

function pendingOf(record: UnsignedAuditRecord, prefix: string): ItemOutcome {
  return { kind: 'record', pending: { key: auditKey(prefix, record.dedupeKey, record.time), record } };
}

function errorFields(error: unknown): NonNullable<AuditRecord['error']> {
  if (error instanceof CloudApiError) return { name: error.name, message: error.message, code: error.code };
  if (error instanceof GuardError) return { name: error.name, message: error.message };
  return { name: 'Error', message: describeError(error) };
}

function summaryOf(
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

export async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  });
  await Promise.all(workers);
}
