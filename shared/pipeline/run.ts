import pLimit, { type LimitFunction } from 'p-limit';
import { auditKey, type DecisionKind } from '../audit/record';
import { CallLog } from '../clients/calllog';
import { OssGateway } from '../clients/oss';
import { previousRuntimeAuditKey, runtimeAuditKey } from '../config/secrets';
import { CloudApiError, describeError } from '../errors';
import type { ParsedItem } from '../events/types';
import { act } from './act';
import { dedupeBatch } from './dedupe';
import { CONCURRENCY, logDecisions, sendAlerts, writeRecords } from './deliver';
import { writeHeldRecords } from './held-records';
import { changeScope, type InvocationDeps, type InvocationResult } from './invocation';
import { admit, outsideDigest } from './outside';
import { plan } from './plan';
import {
  cappedBatchOf,
  cappedSummary,
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
  noteJudged,
  noteRemediation,
  overwrittenDuring,
  type RemediationMark,
  tiedToRemediation,
} from './remediated';
import { claimAlert, openLedger, resolveSkipped, writeIntent } from './resolve';
import { type Decision, type Guard, RemediationBudget } from './types';

export { isOwnRole, type OwnRole, ownRoles, skipReason } from './dedupe';
export { reportCapped } from './deliver';
export type { InvocationDeps, InvocationResult } from './invocation';
export { type DecisionSummary, isCompleted, notJudgedKey, wasJudged } from './records';

/** What every change of one invocation shares. */
interface Invocation<State> {
  guard: Guard<State>;
  deps: InvocationDeps;
  auditGateway: OssGateway;
  budget: RemediationBudget;
  now: () => Date;
  /**
   * The remediation marks this invocation wrote, by key, and the writes still under way: as many at once as
   * changes are handled, so a burst's reverts do not hold a thousand requests open.
   */
  marks: { written: Map<string, RemediationMark>; writing: Promise<void>[]; limit: LimitFunction };
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
    marks: { written: new Map(), writing: [], limit: pLimit(CONCURRENCY) },
  };

  // What an earlier invocation of this instance could not record goes first: a redelivery among this batch
  // must find it.
  await writeHeldRecords(auditGateway, deps.log);
  const { unique, repeats } = dedupeBatch(items, guard.name, config.audit.prefix, now());
  const limit = pLimit(CONCURRENCY);
  const outcomes = await Promise.all(unique.map((item) => limit(() => handleItem(invocation, item))));

  const { decisions, retryableFailures, pending } = sortOutcomes(outcomes, repeats, deps.log);
  const waited = retryableFailures.filter((f) => f.capped).length;
  if (waited > 0)
    deps.log.warn('blast-radius cap reached; the rest waits for a follow-up invocation', { waited });
  if (waited > 0 && !deps.followUp) {
    const summary = cappedSummary(guard.name, waited, {
      invocationId: deps.invocationId,
      batch: cappedBatchOf(unique, now()),
      cap: config.maxRemediationsPerInvocation,
      auditPrefix: config.audit.prefix,
      now: now(),
    });
    // A redelivered batch said how many waited the first time: its summary is on record already.
    if (!(await recorded(auditGateway, config.audit.bucket, summary.key, deps))) pending.push(summary);
  }

  const at = { guard: guard.name, deps, gateway: auditGateway, now: now() };
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
  const { guard, deps, auditGateway, budget, now, marks } = invocation;
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
    ...(deps.accountId ? { deployAccountId: deps.accountId } : {}),
    route: deps.route ?? guard.name,
    ...(eventTimeUnparsed === undefined ? {} : { eventTimeUnparsed }),
  };
  const admitted = await admit(deps, change, first);
  if ('outcome' in admitted) return admitted.outcome;
  const { placement } = admitted;
  const audit = {
    gateway: auditGateway,
    bucket: config.audit.bucket,
    prefix: config.audit.prefix,
    key: runtimeAuditKey(deps.runtime),
    previousKey: previousRuntimeAuditKey(deps.runtime),
  };
  const scope = changeScope(deps, change, now(), placement.kind === 'member' ? placement.clients : undefined);
  const book = {
    gateway: auditGateway,
    bucket: config.audit.bucket,
    guard: guard.name,
    log: deps.log,
    written: marks.written,
  };
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
      const started = now();
      decision = await act(planned.decision, planned.fix, evaluation.bookkeeping ?? [], scope);
      const overwrites = guard.overwritesLaterChanges === true;
      if (decision.decision === 'remediated') {
        // Dated now, when the revert was acknowledged, not when its write gets its turn: a later date would
        // claim the revert came after changes made in between.
        const revertedAt = now();
        if (overwrites) {
          // A repair that can overwrite a later change writes its mark before it reads the judged marks, and a
          // judged change the other way round, so that one of the two always sees the other (remediated.ts).
          await noteRemediation(book, change, ledger.recordKey, revertedAt);
          decision = await overwrittenDuring(book, change, decision, started);
        } else {
          // Not a round trip in this change's path: nothing it decides or records waits for its own mark. A
          // crash before the mark is written loses only what a failed write loses (noteRemediation).
          marks.writing.push(marks.limit(() => noteRemediation(book, change, ledger.recordKey, revertedAt)));
        }
      } else if (decision.decision === 'skipped') {
        if (overwrites) await noteJudged(book, change, now());
        decision = await tiedToRemediation(book, change, decision, overwrites);
      }
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

/** Whether a record exists; when that cannot be read, it is taken as absent (an alert twice beats none). */
async function recorded(
  gateway: OssGateway,
  bucket: string,
  key: string,
  deps: InvocationDeps,
): Promise<boolean> {
  try {
    return await gateway.objectExists(bucket, key);
  } catch (error) {
    deps.log.warn('audit record not read; alerting anyway', { auditKey: key, error: describeError(error) });
    return false;
  }
}

/** An exception is a standing risk the owner accepted: each decision it makes is alerted too (#20). */
const ALERTING: ReadonlySet<DecisionKind> = new Set(['remediated', 'alerted', 'dry-run', 'excepted']);
