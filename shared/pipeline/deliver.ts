import pLimit from 'p-limit';
import { alertFor } from '../alerts/build';
import type { AlertDispatcher } from '../alerts/dispatch';
import type { DeliveryResult } from '../alerts/types';
import { type AuditKey, sign } from '../audit/record';
import { CallLog } from '../clients/calllog';
import { OssGateway } from '../clients/oss';
import { runtimeAuditKey } from '../config/secrets';
import { describeError } from '../errors';
import type { ParsedItem } from '../events/types';
import type { Logger } from '../log';
import { holdRecord } from './held-records';
import type { InvocationDeps } from './invocation';
import { cappedBatchOf, cappedSummary, type DecisionSummary, type Pending, summaryOf } from './records';
import { ledgerAuditOf, openLedger } from './resolve';

/** How many changes of one batch are worked on at once: enough to overlap round trips, bounded for memory. */
export const CONCURRENCY = 16;

/** Sends the batch's alerts in one dispatch (channels batch and rate-limit), keyed by dedupe key. */
export async function sendAlerts(
  pending: readonly Pending[],
  dispatch: AlertDispatcher,
): Promise<Map<string, DeliveryResult[]>> {
  const alerts = pending.filter((p) => p.alert).map((p) => alertFor(p.record, p.alert?.advice));
  return alerts.length > 0 ? dispatch(alerts) : new Map<string, DeliveryResult[]>();
}

/**
 * Writes each record with the deliveries of its alert, write-once: a record that exists already was another
 * delivery's, and this one is its duplicate. A failed write is a retryable failure (EventBridge redelivers).
 */
export async function writeRecords(
  pending: readonly Pending[],
  deliveries: ReadonlyMap<string, DeliveryResult[]>,
  audit: { gateway: OssGateway; bucket: string; log: Logger; key: AuditKey | undefined },
): Promise<{ decisions: DecisionSummary[]; failures: Array<{ eventId: string; error: string }> }> {
  const decisions: DecisionSummary[] = [];
  const failures: Array<{ eventId: string; error: string }> = [];
  const limit = pLimit(CONCURRENCY);
  await Promise.all(
    pending.map(({ record, key }) =>
      limit(async () => {
        const signed = sign({ ...record, alerts: deliveries.get(record.dedupeKey) ?? [] }, audit.key);
        const body = JSON.stringify(signed);
        try {
          const written = await audit.gateway.putObjectIfAbsent(audit.bucket, key, body);
          decisions.push(summaryOf(signed, written === 'exists' ? 'duplicate' : signed.decision, key));
        } catch (error) {
          failures.push({ eventId: signed.eventId, error: `audit write failed: ${describeError(error)}` });
          holdRecord(key, audit.bucket, body, signed.eventId);
          audit.log.error('audit record could not be written', {
            eventId: signed.eventId,
            auditKey: key,
            error: describeError(error),
          });
        }
      }),
    ),
  );
  return { decisions, failures };
}

/**
 * The one alert and record of a batch the blast-radius cap held `waited` changes of back, unless it is on
 * record already (a redelivered batch said how many waited the first time) or the batch is a follow-up's.
 */
export async function cappedBatchSummary(
  waited: number,
  batch: readonly ParsedItem[],
  at: { guard: string; deps: InvocationDeps; gateway: OssGateway; now: Date },
): Promise<Pending | undefined> {
  if (waited === 0) return undefined;
  at.deps.log.warn('blast-radius cap reached; the rest waits for a follow-up invocation', { waited });
  if (at.deps.followUp) return undefined;
  const { config } = at.deps.runtime;
  const summary = cappedSummary(at.guard, waited, {
    invocationId: at.deps.invocationId,
    batch: cappedBatchOf(batch, at.now),
    cap: config.maxRemediationsPerInvocation,
    auditPrefix: config.audit.prefix,
    now: at.now,
  });
  return unrecorded(summary, at.gateway, at.deps);
}

/**
 * `pending` unless a record signed with the audit key settles it already. These keys are predictable: an
 * object planted at one by someone who can write the audit bucket settles nothing, and the record goes to the
 * next attempt's key, as a change's does (openLedger). When the bucket cannot be read, the record is taken as
 * absent: an alert twice beats none.
 */
async function unrecorded(
  pending: Pending,
  gateway: OssGateway,
  deps: InvocationDeps,
): Promise<Pending | undefined> {
  try {
    const opening = await openLedger(ledgerAuditOf(deps.runtime, gateway), {
      ...pending.record,
      origin: 'sweep',
    });
    if (opening.kind === 'handled') return undefined;
    return {
      ...pending,
      key: opening.ledger.recordKey,
      record: { ...pending.record, dedupeKey: opening.dedupeKey },
    };
  } catch (error) {
    deps.log.warn('audit record not read; alerting anyway', {
      auditKey: pending.key,
      error: describeError(error),
    });
    return pending;
  }
}

/**
 * The one alert and record of a source that ran the guards in several batches (the sweep) and passed
 * `followUp` to each: how many changes the blast-radius cap held back in the whole invocation.
 */
export async function reportCapped(guard: string, waited: number, deps: InvocationDeps): Promise<void> {
  const { config } = deps.runtime;
  const now = (deps.now ?? (() => new Date()))();
  await deliverOwn(
    [
      cappedSummary(guard, waited, {
        invocationId: deps.invocationId,
        // A timer's invocation is never redelivered: it is its own batch.
        batch: { id: deps.invocationId, time: now.toISOString() },
        cap: config.maxRemediationsPerInvocation,
        auditPrefix: config.audit.prefix,
        now,
      }),
    ],
    deps,
  );
}

/**
 * Alerts on and records what a source reports of its own, outside any batch of changes (the sweep's summaries
 * and failures). A record already on file was alerted on when it was written: neither is done again, so a
 * record keyed by the day is one record and one alert a day (a signed one: `unrecorded`).
 */
export async function deliverOwn(pending: readonly Pending[], deps: InvocationDeps): Promise<void> {
  const { config } = deps.runtime;
  const gateway = new OssGateway(deps.oss, config.audit.region ?? deps.region, new CallLog());
  const fresh = (await Promise.all(pending.map((item) => unrecorded(item, gateway, deps)))).filter(
    (item): item is Pending => item !== undefined,
  );
  if (fresh.length === 0) return;
  const deliveries = await sendAlerts(fresh, deps.dispatch);
  await writeRecords(fresh, deliveries, {
    gateway,
    bucket: config.audit.bucket,
    log: deps.log,
    key: runtimeAuditKey(deps.runtime),
  });
}

/** One log line per decision, for the function's log. */
export function logDecisions(guard: string, decisions: readonly DecisionSummary[], log: Logger): void {
  for (const d of decisions) {
    const { eventId, eventName, decision, reason } = d;
    log.info('decision', { guard, eventId, eventName, decision, reason, rules: d.rules.join(',') });
  }
}
