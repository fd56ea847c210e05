import pLimit from 'p-limit';
import { auditKey, type DecisionKind } from '../audit/record';
import { CallLog } from '../clients/calllog';
import { OssGateway } from '../clients/oss';
import { runtimeAuditKey } from '../config/secrets';
import { CloudApiError, describeError } from '../errors';
import type { ParsedItem } from '../events/types';
import { decideAndAct, type Invocation } from './decide';
import { dedupeBatch, inResourceOrder, resourceOrderOf } from './dedupe';
import { CONCURRENCY, cappedBatchSummary, logDecisions, sendAlerts, writeRecords } from './deliver';
import { writeHeldRecords } from './held-records';
import { changeScope, type InvocationDeps, type InvocationResult } from './invocation';
import { admit, outsideDigest } from './outside';
import {
  changeRecord,
  dated,
  duplicateOf,
  failedRecord,
  type ItemOutcome,
  notJudged,
  retryOf,
  sortOutcomes,
  withDecision,
} from './records';
import {
  claimAlert,
  type IntentPlacement,
  ledgerAuditOf,
  movedTo,
  openLedger,
  resolveSkipped,
} from './resolve';
import { type Decision, type Guard, RemediationBudget } from './types';

export { isOwnRole, type OwnRole, ownRoles, skipReason } from './dedupe';
export { reportCapped } from './deliver';
export type { InvocationDeps, InvocationResult } from './invocation';
export { type DecisionSummary, isCompleted, notJudgedKey, wasJudged } from './records';

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
    marks: { written: new Map(), writing: [], limit: pLimit(CONCURRENCY) },
  };

  // What an earlier invocation of this instance could not record goes first: a redelivery among this batch
  // must find it.
  await writeHeldRecords(auditGateway, deps.log);
  const { unique, repeats } = dedupeBatch(items, guard.name, config.audit.prefix, now());
  const handle = (item: ParsedItem) => handleItem(invocation, item);
  const outcomes = await inResourceOrder(unique, pLimit(CONCURRENCY), handle, guard);

  const { decisions, retryableFailures, pending } = sortOutcomes(outcomes, repeats, deps.log);
  const waited = retryableFailures.filter((f) => f.capped).length;
  const at = { guard: guard.name, deps, gateway: auditGateway, now: now() };
  const summary = await cappedBatchSummary(waited, unique, at);
  if (summary) pending.push(summary);

  const outside = await outsideDigest(pending, at);
  if (outside) pending.push(outside);

  const deliveries = await sendAlerts(pending, deps.dispatch);
  const key = runtimeAuditKey(deps.runtime);
  const audit = { gateway: auditGateway, bucket: config.audit.bucket, log: deps.log, key };
  // The marks' writes end with the records' (noteRemediation never rejects): an invocation leaves nothing behind.
  const [audited] = await Promise.all([
    writeRecords(pending, deliveries, audit),
    Promise.all(invocation.marks.writing),
  ]);
  decisions.push(...audited.decisions);
  retryableFailures.push(...audited.failures);

  logDecisions(guard.name, decisions, deps.log);
  return { decisions, retryableFailures };
}

async function handleItem<State>(invocation: Invocation<State>, item: ParsedItem): Promise<ItemOutcome> {
  const { guard, deps, auditGateway, now, marks } = invocation;
  const { config } = deps.runtime;
  if (item.kind !== 'change')
    return notJudged(guard.name, item, {
      invocationId: deps.invocationId,
      auditPrefix: config.audit.prefix,
      now: now(),
      log: deps.log,
    });

  const { change, eventTimeUnparsed } = dated(item.record, now());
  const first = {
    ...changeRecord(guard.name, change, now()),
    ...(deps.accountId ? { deployAccountId: deps.accountId } : {}),
    route: deps.route ?? guard.name,
    ...(eventTimeUnparsed === undefined ? {} : { eventTimeUnparsed }),
  };
  const admitted = await admit(deps, change, first);
  if ('outcome' in admitted) return admitted.outcome;
  const { placement } = admitted;
  const audit = ledgerAuditOf(deps.runtime, auditGateway);
  const scope = changeScope(deps, change, now(), placement.kind === 'member' ? placement.clients : undefined);
  const book = {
    gateway: auditGateway,
    bucket: config.audit.bucket,
    guard: guard.name,
    resourceOf: resourceOrderOf(guard).resourceOf,
    log: deps.log,
    written: marks.written,
    key: audit.key,
    previousKey: audit.previousKey,
    now,
  };
  let record = first;
  let recordKey = auditKey(config.audit.prefix, change.dedupeKey, change.time);
  try {
    const [opened, observation] = await Promise.allSettled([
      openLedger(audit, change),
      guard.observe(change, scope),
    ]);
    if (opened.status === 'rejected') throw opened.reason;
    let ledger = opened.value.ledger;
    recordKey = ledger.recordKey;
    if (opened.value.kind === 'handled') {
      return duplicateOf(record, ledger.recordKey, 'already handled: an audit record exists for this event');
    }
    record = { ...record, dedupeKey: opened.value.dedupeKey };
    if (observation.status === 'rejected') throw observation.reason;
    const live = observation.value;

    let decision: Decision;
    let intent: IntentPlacement['kind'] = 'free';
    if (live.kind === 'gone') {
      decision = { decision: 'skipped', reason: live.reason, findings: [] };
    } else {
      const judged = await decideAndAct(invocation, live.state, { change, ledger, record, scope, book });
      if (judged === 'capped') return { kind: 'capped', eventId: change.eventId };
      ({ decision, intent, ledger } = judged);
      ({ record, recordKey } = movedTo(ledger, record));
    }
    // Recorded under a later attempt's keys (past an object planted at this one's): this delivery is a repeat.
    if (intent === 'handled') return duplicateOf(record, recordKey, 'already handled by another delivery');
    if (intent === 'held') {
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
      const claim = await claimAlert(ledger, record, decision, scope.calls, now());
      if (claim.kind !== 'claimed') return claim;
      ledger = claim.ledger;
      ({ record, recordKey } = movedTo(ledger, record));
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

/** An exception is a standing risk the owner accepted: each decision it makes is alerted too (#20). */
const ALERTING: ReadonlySet<DecisionKind> = new Set(['remediated', 'alerted', 'dry-run', 'excepted']);
