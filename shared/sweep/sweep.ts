import { mapLimited } from '../audit/store';
import { CallLog } from '../clients/calllog';
import { OssGateway } from '../clients/oss';
import { aclGuard } from '../guards/acl';
import { policyGuard } from '../guards/policy';
import { type InvocationDeps, type InvocationResult, runGuard } from '../pipeline/run';
import type { Guard } from '../pipeline/types';
import { Assessor, type BucketRef, type Exposure } from './assess';
import type { SweepCheckpoint, SweepCheckpoints } from './checkpoint';

/**
 * The event name of the changes a sweep hands the guards. It names no API call because none happened: the
 * sweep found the state. The guards' `observe` reads the bucket ACL (ACL guard) or policy (policy guard) for
 * any event name other than their special ones, which is exactly what a swept bucket needs.
 */
export const SWEEP_EVENT = 'OssguardSweep';

/** A guard that also accepts sweep changes; everything else about it is the guard itself. */
const sweeping = <State>(guard: Guard<State>): Guard<State> => ({
  ...guard,
  events: [...guard.events, SWEEP_EVENT],
});

const sweepingAcl = sweeping(aclGuard);
const sweepingPolicy = sweeping(policyGuard);

/** Which guard judges which part of an exposure. */
const HANDLERS: ReadonlyArray<{
  kind: 'acl' | 'policy';
  run(records: unknown[], deps: InvocationDeps): Promise<InvocationResult>;
}> = [
  { kind: 'acl', run: (records, deps) => runGuard(sweepingAcl, records, deps) },
  { kind: 'policy', run: (records, deps) => runGuard(sweepingPolicy, records, deps) },
];

/** ListBuckets pages in name order, starting after `after`: the order a checkpoint's marker relies on. */
export async function* bucketPages(oss: OssGateway, after?: string): AsyncGenerator<BucketRef[]> {
  let marker = after;
  do {
    const page = await oss.listBuckets(marker);
    yield page.buckets;
    marker = page.next;
  } while (marker);
}

export interface SweepOptions {
  deps: InvocationDeps;
  accountId: string;
  /** Epoch ms: no stretch of buckets starts after it, so the run can checkpoint before FC kills it. */
  deadline: number;
  checkpoints: SweepCheckpoints;
  /** Buckets assessed at once. */
  concurrency?: number;
  /** Buckets between deadline checks; each stretch is assessed, handled, then counted as done. */
  stretch?: number;
}

export interface SweepResult {
  runId: string;
  resumed: boolean;
  /** The buckets this invocation covered, first and last in listing order. */
  first?: string;
  last?: string;
  buckets: number;
  /** Buckets some rule objects to, excepted ones included. */
  exposed: number;
  excepted: number;
  gone: number;
  /** Buckets that could not be read, and exposures the pipeline met cloud faults on; the next run retries. */
  failed: number;
  /** Decisions the guards made about the exposures, by kind. */
  decisions: Record<string, number>;
  /** Every bucket of the run is done; the next invocation starts a new run. */
  complete: boolean;
}

const compactTime = (iso: string): string => iso.replace(/[-:]|\.\d{3}/g, '');

/**
 * One invocation of a sweep: resumes the run the latest checkpoint left unfinished (or starts one), assesses
 * buckets in ListBuckets order until done or past the deadline, hands what is exposed to the guards through
 * the shared pipeline, and checkpoints the last bucket covered. Compliant buckets leave no audit record.
 */
export async function sweep(options: SweepOptions): Promise<SweepResult> {
  const { deps, checkpoints } = options;
  const now = deps.now ?? (() => new Date());
  const latest = await checkpoints.latest();
  const resume = latest && !latest.complete ? latest : undefined;
  const startedAt = resume?.startedAt ?? now().toISOString();
  const runId = resume?.runId ?? compactTime(startedAt);
  const result: SweepResult = {
    runId,
    resumed: resume !== undefined,
    buckets: 0,
    exposed: 0,
    excepted: 0,
    gone: 0,
    failed: 0,
    decisions: {},
    complete: false,
  };
  const assessor = new Assessor(deps.oss, deps.runtime.config, {
    accountId: options.accountId,
    region: deps.region,
    now: now(),
  });
  const listing = new OssGateway(deps.oss, deps.region, new CallLog());
  const budget = { remaining: deps.runtime.config.maxRemediationsPerInvocation };
  const stretch = options.stretch ?? 32;
  let after = resume?.after;
  let stopped = false;
  try {
    pages: for await (const page of bucketPages(listing, after)) {
      for (let i = 0; i < page.length; i += stretch) {
        if (now().getTime() >= options.deadline) {
          stopped = true;
          break pages;
        }
        const refs = page.slice(i, i + stretch);
        const assessed = await mapLimited(refs, options.concurrency ?? 16, (ref) => assessor.assess(ref));
        const exposures: Exposure[] = [];
        for (const a of assessed) {
          if (a.kind === 'gone') result.gone += 1;
          else if (a.kind === 'failed') {
            result.failed += 1;
            deps.log.warn('bucket could not be assessed', { bucket: a.bucket, error: a.error });
          } else if (a.kind === 'exposed') {
            result.exposed += 1;
            if (a.exposure.excepted) result.excepted += 1;
            else exposures.push(a.exposure);
          }
        }
        await handle(exposures, runId, options, budget, result, now);
        result.first ??= refs[0]?.name;
        result.last = refs.at(-1)?.name;
        result.buckets += refs.length;
        after = result.last;
      }
    }
    result.complete = !stopped;
  } finally {
    await checkpoint(
      checkpoints,
      {
        kind: 'ossguard-sweep-checkpoint',
        runId,
        startedAt,
        seq: (resume?.seq ?? 0) + 1,
        ...(after ? { after } : {}),
        complete: result.complete,
        buckets: (resume?.buckets ?? 0) + result.buckets,
        exposed: (resume?.exposed ?? 0) + result.exposed,
        writtenAt: now().toISOString(),
      },
      deps,
    );
  }
  deps.log.info('sweep', {
    runId,
    resumed: result.resumed,
    buckets: result.buckets,
    exposed: result.exposed,
    failed: result.failed,
    complete: result.complete,
    last: result.last,
  });
  return result;
}

async function checkpoint(
  checkpoints: SweepCheckpoints,
  value: SweepCheckpoint,
  deps: InvocationDeps,
): Promise<void> {
  if ((await checkpoints.write(value)) === 'exists') {
    deps.log.warn('another invocation wrote this sweep step first', { runId: value.runId, seq: value.seq });
  }
}

/**
 * Each exposure becomes a change for the guard that owns the rule, through the same pipeline as an event:
 * fresh re-read, decide, act, alert, audit. The blast-radius cap covers the whole invocation, so each call
 * gets what the earlier ones left of it.
 */
async function handle(
  exposures: readonly Exposure[],
  runId: string,
  options: SweepOptions,
  budget: { remaining: number },
  result: SweepResult,
  now: () => Date,
): Promise<void> {
  const { deps } = options;
  for (const { kind, run } of HANDLERS) {
    const records = exposures
      .filter((e) => e[kind].length > 0)
      .map((e) => sweepRecord(runId, kind, e, options.accountId, now()));
    if (records.length === 0) continue;
    const config = { ...deps.runtime.config, maxRemediationsPerInvocation: budget.remaining };
    const outcome = await run(records, {
      ...deps,
      runtime: { ...deps.runtime, config },
      invocationId: `${deps.invocationId}/${kind}`,
    });
    for (const d of outcome.decisions) {
      result.decisions[d.decision] = (result.decisions[d.decision] ?? 0) + 1;
      if (d.decision === 'remediated') budget.remaining -= 1;
    }
    result.failed += outcome.retryableFailures.length;
  }
}

/**
 * A bare ActionTrail-shaped record for one exposure. The eventId is unique per run, bucket and guard: a run
 * resumed after a hard kill may assess a bucket again, and the pipeline's audit check then makes it a duplicate.
 */
function sweepRecord(
  runId: string,
  kind: string,
  exposure: Exposure,
  accountId: string,
  time: Date,
): Record<string, unknown> {
  return {
    eventId: `sweep-${runId}-${kind}-${exposure.bucket}`,
    eventVersion: 1,
    eventName: SWEEP_EVENT,
    eventType: SWEEP_EVENT,
    serviceName: 'Oss',
    acsRegion: exposure.region,
    eventTime: time.toISOString(),
    ...(accountId ? { recipientAccountId: accountId } : {}),
    userIdentity: { type: 'system', userName: 'oss-sweeper' },
    referencedResources: { 'ACS::OSS::Bucket': [exposure.bucket] },
  };
}
