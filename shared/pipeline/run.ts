import pLimit from 'p-limit';
import type { DecisionKind } from '../audit/record';
import { auditKey } from '../audit/record';
import { CallLog } from '../clients/calllog';
import { OssGateway } from '../clients/oss';
import { runtimeAuditKey } from '../config/secrets';
import { CloudApiError, describeError } from '../errors';
import type { ChangeRecord, ParsedItem } from '../events/types';
import { act } from './act';
import { dedupeBatch, ownRoles, skipReason } from './dedupe';
import { CONCURRENCY, sendAlerts, writeRecords } from './deliver';
import { writeHeldRecords } from './held-records';
import { changeScope, type InvocationDeps, type InvocationResult } from './invocation';
import { plan } from './plan';
import {
  cappedSummary,
  changeRecord,
  duplicateOf,
  failedRecord,
  type ItemOutcome,
  notJudged,
  type Pending,
  pendingOf,
  retryOf,
  withDecision,
} from './records';
import { lastRemediation, markRemediated } from './remediated';
import { claimAlert, openLedger, resolveSkipped, writeIntent } from './resolve';
import { type Decision, type Guard, RemediationBudget } from './types';

export { isOwnRole, type OwnRole, ownRoles, skipReason } from './dedupe';
export type { InvocationDeps, InvocationResult } from './invocation';
export { type DecisionSummary, isCompleted, notJudgedKey, wasJudged } from './records';

/** What every change of one invocation shares. */
interface Invocation<State> {
  guard: Guard<State>;
  deps: InvocationDeps;
  auditGateway: OssGateway;
  budget: RemediationBudget;
  now: () => Date;
}

/**
 * The pipeline every guard shares, over the typed changes of one source: dedupe → skip what must be skipped
 * → resolve (audit record, intents and claims) alongside re-reading live state → evaluate (pure) → plan
 * → act → alert → audit.
 * A bad element, an unknown event or a failing channel never stops the rest of the batch.
 */
export async function runGuard<State>(
  guard: Guard<State>,
  /** Typed changes from a source adapter; ignored and invalid items are recorded as not judged. */
  items: readonly ParsedItem[],
  deps: InvocationDeps,
): Promise<InvocationResult> {
  const { config } = deps.runtime;
  const now = deps.now ?? (() => new Date());
  const auditGateway = new OssGateway(deps.oss, config.audit.region ?? deps.region, new CallLog());
  const invocation = {
    guard,
    deps,
    auditGateway,
    budget: deps.budget ?? new RemediationBudget(config.maxRemediationsPerInvocation),
    now,
  };

  // What an earlier invocation of this instance could not record goes first: a redelivery among this batch
  // must find it.
  await writeHeldRecords(auditGateway, deps.log);
  const { unique, repeats } = dedupeBatch(items, guard.name, config.audit.prefix, now());
  const limit = pLimit(CONCURRENCY);
  const outcomes = await Promise.all(unique.map((item) => limit(() => handleItem(invocation, item))));

  const decisions = [...repeats];
  const retryableFailures: InvocationResult['retryableFailures'] = [];
  const pending: Pending[] = [];
  for (const outcome of outcomes) {
    if (outcome.kind === 'duplicate') decisions.push(outcome.summary);
    else if (outcome.kind === 'retry') {
      retryableFailures.push(outcome.failure);
      deps.log.warn(
        'change not finished; the invocation will fail so EventBridge redelivers',
        outcome.failure,
      );
    } else if (outcome.kind === 'capped') {
      retryableFailures.push({ eventId: outcome.eventId, error: CAPPED, capped: true });
    } else pending.push(outcome.pending);
  }
  const waited = retryableFailures.filter((f) => f.capped).length;
  if (waited > 0)
    deps.log.warn('blast-radius cap reached; the rest waits for a follow-up invocation', { waited });
  if (waited > 0 && !deps.followUp) {
    pending.push(
      cappedSummary(guard.name, waited, {
        invocationId: deps.invocationId,
        cap: config.maxRemediationsPerInvocation,
        auditPrefix: config.audit.prefix,
        now: now(),
      }),
    );
  }

  const deliveries = await sendAlerts(pending, deps.dispatch);
  const audited = await writeRecords(pending, deliveries, {
    gateway: auditGateway,
    bucket: config.audit.bucket,
    log: deps.log,
    key: runtimeAuditKey(deps.runtime),
  });
  decisions.push(...audited.decisions);
  retryableFailures.push(...audited.failures);

  for (const d of decisions) {
    const { eventId, eventName, decision, reason } = d;
    deps.log.info('decision', {
      guard: guard.name,
      eventId,
      eventName,
      decision,
      reason,
      rules: d.rules.join(','),
    });
  }
  return { decisions, retryableFailures };
}

async function handleItem<State>(invocation: Invocation<State>, item: ParsedItem): Promise<ItemOutcome> {
  const { guard, deps, auditGateway, budget, now } = invocation;
  const { config } = deps.runtime;
  if (item.kind !== 'change') {
    const at = {
      invocationId: deps.invocationId,
      auditPrefix: config.audit.prefix,
      now: now(),
      log: deps.log,
    };
    return notJudged(guard.name, item, at);
  }

  const { change, eventTimeUnparsed } = dated(item.record, now());
  const first = {
    ...changeRecord(guard.name, change, now()),
    route: deps.route ?? guard.name,
    ...(eventTimeUnparsed === undefined ? {} : { eventTimeUnparsed }),
  };
  const skip = skipReason(change, ownRoles(deps.accountId, config.ownRoleName));
  if (skip) return pendingOf({ ...first, decision: 'skipped', reason: skip }, config.audit.prefix);

  const audit = {
    gateway: auditGateway,
    bucket: config.audit.bucket,
    prefix: config.audit.prefix,
    key: runtimeAuditKey(deps.runtime),
  };
  const scope = changeScope(deps, change, now());
  let record = first;
  let recordKey = auditKey(config.audit.prefix, change.dedupeKey, change.time);
  try {
    const [opened, observation] = await Promise.allSettled([
      openLedger(audit, change),
      guard.observe(change, scope),
    ]);
    if (opened.status === 'rejected') throw opened.reason;
    const ledger = opened.value.ledger;
    recordKey = ledger.recordKey;
    if (opened.value.kind === 'handled') {
      return duplicateOf(record, ledger.recordKey, 'already handled: an audit record exists for this event');
    }
    record = { ...record, dedupeKey: opened.value.dedupeKey };
    if (observation.status === 'rejected') throw observation.reason;
    const live = observation.value;

    let decision: Decision;
    let intentHeldElsewhere = false;
    if (live.kind === 'gone') {
      decision = { decision: 'skipped', reason: live.reason, findings: [] };
    } else {
      // Evaluate sees configuration and the clock only: no gateway reaches it.
      const evaluation = guard.evaluate(change, live.state, { config, now: scope.now, log: deps.log });
      const planned = plan(evaluation, config, budget);
      if (planned.capped) return { kind: 'capped', eventId: change.eventId };
      if (planned.fix)
        intentHeldElsewhere = await writeIntent(ledger, record, planned.decision, scope.calls, deps.log);
      decision = await act(planned.decision, planned.fix, evaluation.bookkeeping ?? [], scope);
      if (decision.decision === 'remediated') await noteRemediation(invocation, change, ledger.recordKey);
      else if (decision.decision === 'skipped')
        decision = await tiedToRemediation(invocation, change, decision);
    }
    if (intentHeldElsewhere) {
      // Another delivery of this event announced the same revert first. Reverting again was harmless; its
      // alert and record are that delivery's, and one sent here would repeat them. If it died before writing
      // the record, the redelivery this failure causes finishes it from the intent.
      return retryOf(change.eventId, 'another delivery of this event holds its intent record', true);
    }
    if (decision.decision === 'skipped') {
      const settled = await resolveSkipped(ledger, record, decision, scope.calls);
      if (settled) return settled;
    }
    const alerting = ALERTING.has(decision.decision);
    if (alerting && decision.decision !== 'remediated') {
      const claimedElsewhere = await claimAlert(ledger, record, decision, scope.calls, now());
      if (claimedElsewhere) return claimedElsewhere;
    }
    const alert = alerting ? { alert: { advice: decision.advice ?? [] } } : {};
    return {
      kind: 'record',
      pending: { key: ledger.recordKey, record: withDecision(record, decision, scope.calls), ...alert },
    };
  } catch (error) {
    if (error instanceof CloudApiError && error.retryable)
      return retryOf(change.eventId, describeError(error));
    return {
      kind: 'record',
      pending: {
        key: recordKey,
        record: failedRecord(record, error, scope.calls),
        alert: { advice: [] },
      },
    };
  }
}

/**
 * An `eventTime` that is no time would file the record under 1970 (`auditKey`): the record goes under the time
 * the change was received instead, and keeps the text it came with. Redeliveries on the same UTC day share the
 * key; one across midnight may be recorded twice.
 */
function dated(change: ChangeRecord, now: Date): { change: ChangeRecord; eventTimeUnparsed?: string } {
  if (!Number.isNaN(Date.parse(change.time))) return { change };
  return { change: { ...change, time: now.toISOString() }, eventTimeUnparsed: change.time };
}

/** Notes the revert against its resource, so a later change the revert already fixed can say so. */
async function noteRemediation<State>(
  { guard, deps, auditGateway, now }: Invocation<State>,
  change: ChangeRecord,
  auditKey: string,
): Promise<void> {
  const mark = { eventId: change.eventId, eventName: change.eventName, auditKey, at: now().toISOString() };
  try {
    await markRemediated(
      { gateway: auditGateway, bucket: deps.runtime.config.audit.bucket },
      guard.name,
      change,
      mark,
    );
  } catch (error) {
    // Only the tie from a later `skipped` record is lost; the revert and its record stand.
    deps.log.warn('remediation mark not written', { eventId: change.eventId, error: describeError(error) });
  }
}

/**
 * A change whose resource passes may pass because ossguard reverted it for another event that came first
 * (a bucket created public, then its ACL set again before the revert): the `skipped` record names that revert.
 */
async function tiedToRemediation<State>(
  { guard, deps, auditGateway }: Invocation<State>,
  change: ChangeRecord,
  decision: Decision,
): Promise<Decision> {
  const audit = { gateway: auditGateway, bucket: deps.runtime.config.audit.bucket };
  const mark = await lastRemediation(audit, guard.name, change);
  if (!mark || mark.eventId === change.eventId || Date.parse(mark.at) < Date.parse(change.time))
    return decision;
  return {
    ...decision,
    reason: `${decision.reason}: ossguard reverted it after this change, for ${mark.eventName} ${mark.eventId}`,
    remediatedBy: { eventId: mark.eventId, eventName: mark.eventName, auditKey: mark.auditKey },
  };
}

/**
 * The one alert and record of a source that ran the guards in several batches (the sweep) and passed
 * `followUp` to each: how many changes the blast-radius cap held back in the whole invocation.
 */
export async function reportCapped(guard: string, waited: number, deps: InvocationDeps): Promise<void> {
  const { config } = deps.runtime;
  const pending = [
    cappedSummary(guard, waited, {
      invocationId: deps.invocationId,
      cap: config.maxRemediationsPerInvocation,
      auditPrefix: config.audit.prefix,
      now: (deps.now ?? (() => new Date()))(),
    }),
  ];
  const gateway = new OssGateway(deps.oss, config.audit.region ?? deps.region, new CallLog());
  const deliveries = await sendAlerts(pending, deps.dispatch);
  await writeRecords(pending, deliveries, {
    gateway,
    bucket: config.audit.bucket,
    log: deps.log,
    key: runtimeAuditKey(deps.runtime),
  });
}

const CAPPED = 'held back by the blast-radius cap: a follow-up invocation judges it';

/** An exception is a standing risk the owner accepted: each decision it makes is alerted too (#20). */
const ALERTING: ReadonlySet<DecisionKind> = new Set(['remediated', 'alerted', 'dry-run', 'excepted']);
