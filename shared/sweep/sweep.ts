import { CallLog } from '../clients/calllog';
import { OssGateway } from '../clients/oss';
import type { ChangeRecord, ParsedItem } from '../events/types';
import { aclGuard } from '../guards/acl';
import { policyGuard } from '../guards/policy';
import type { AccountClients } from '../pipeline/accounts';
import { type InvocationDeps, type InvocationResult, reportCapped, runGuard } from '../pipeline/run';
import { RemediationBudget } from '../pipeline/types';
import { Assessor, type BucketRef, type Exposure } from './assess';
import { type KeySweepAccount, type KeySweepResult, sweepKeys } from './keys';
import { type ObjectPassCounts, sweepExposedObjects } from './objects';
import type { SweepCheckpoint, SweepCheckpoints } from './progress-checkpoint';

/**
 * The event name of the changes a sweep hands the guards. It names no API call because none happened: the
 * sweep found the state. The guards' `observe` reads the bucket ACL (ACL guard) or policy (policy guard) for
 * any event name other than their special ones, which is exactly what a swept bucket needs.
 */
export const SWEEP_EVENT = 'OssguardSweep';

/** Which guard judges which part of an exposure. */
const HANDLERS: ReadonlyArray<{
  kind: 'acl' | 'policy';
  run(changes: readonly ParsedItem[], deps: InvocationDeps): Promise<InvocationResult>;
}> = [
  { kind: 'acl', run: (changes, deps) => runGuard(aclGuard, changes, deps) },
  { kind: 'policy', run: (changes, deps) => runGuard(policyGuard, changes, deps) },
];

/**
 * ListBuckets pages in name order, starting after `after`: the order a checkpoint's marker relies on. Each
 * page's successor is requested as soon as the page arrives, so the listing's round trips overlap the work
 * on the page before instead of stalling it.
 */
export async function* bucketPages(oss: OssGateway, after?: string): AsyncGenerator<BucketRef[]> {
  type Page = Awaited<ReturnType<OssGateway['listBuckets']>>;
  let pending: Promise<Page> | undefined = oss.listBuckets(after);
  try {
    while (pending) {
      const page: Page = await pending;
      pending = page.next === undefined ? undefined : oss.listBuckets(page.next);
      // Awaited only if the consumer wants the page; a failure it never asks for must not go unhandled.
      pending?.catch(() => undefined);
      yield page.buckets;
    }
  } finally {
    // A consumer that stops early (a deadline) leaves no request running behind it.
    await pending?.catch(() => undefined);
  }
}

/**
 * Buckets assessed at once. Each sends its `READS_PER_BUCKET` reads together, so 32 requests are in flight:
 * at 10 ms a round trip, about what one core of ali-oss can sign and parse (bench/sweep.ts, BENCHMARKS.md).
 */
export const SWEEP_CONCURRENCY = 16;

export interface SweepOptions {
  deps: InvocationDeps;
  accountId: string;
  /** Epoch ms: no bucket is started after it, so the run can checkpoint before FC kills it. */
  deadline: number;
  checkpoints: SweepCheckpoints;
  /** Buckets assessed at once (default `SWEEP_CONCURRENCY`). */
  concurrency?: number;
  /** The invocation's blast-radius budget, when something before the sweep drew on it too. */
  budget?: RemediationBudget;
  /**
   * A member account's clients (its member role's session), which list and assess its buckets, read its RAM
   * users and the objects of its exposed prefixes; the changes then go to the pipeline, which places them in
   * that account again (shared/pipeline/accounts.ts).
   */
  member?: AccountClients;
  /** Told why the account's RAM could not be read by the key sweep. */
  ramUnreadable?: KeySweepAccount['unreadable'];
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
  /**
   * Buckets and RAM users that could not be read, and exposures the pipeline met cloud faults on; the next run
   * retries.
   */
  failed: number;
  /** Exposures the blast-radius cap held back: not recorded, so the next run finds and judges them again. */
  deferred: number;
  /** Decisions the guards made about the exposures, by kind. */
  decisions: Record<string, number>;
  /** Every bucket of the run is done; the next invocation starts a new run. */
  complete: boolean;
  /** The account's AccessKeys, swept once per run, at its start (functions built with RAM clients only). */
  keys?: KeySweepResult;
  /**
   * The object pass of a completed run: the exposed prefixes, the objects checked in them, and the prefixes the
   * deadline or the pass's caps left (read by the next run's pass).
   */
  objects?: ObjectPassCounts;
}

const compactTime = (iso: string): string => iso.replace(/[-:]|\.\d{3}/g, '');

/**
 * One invocation of a sweep: resumes the run the latest checkpoint left unfinished (or starts one), assesses
 * buckets in ListBuckets order until done or past the deadline, hands what is exposed to the guards through
 * the shared pipeline, and checkpoints the last bucket covered. Compliant buckets leave no audit record.
 *
 * One pool of `concurrency` buckets runs across pages: a bucket starts as soon as another finishes, with no
 * wait for the rest of its page. Exposures go to the guards in batches, one batch at a time, while the
 * assessment goes on.
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
    deferred: 0,
    decisions: {},
    complete: false,
  };
  const { member } = options;
  // One blast-radius budget for the whole invocation: the keys, every batch of the bucket pass, the object pass.
  const budget = options.budget ?? new RemediationBudget(deps.runtime.config.maxRemediationsPerInvocation);
  const ram = member ? member.ram : deps.ram;
  if (!resume && ram) {
    result.keys = await sweepKeys(
      // What the cap holds back is alerted once, by the sweep (`reportCapped` below).
      { ...deps, budget, followUp: true },
      {
        ram,
        deadline: options.deadline,
        ...(member ? { memberId: options.accountId } : { homeId: options.accountId }),
        ...(options.ramUnreadable ? { unreadable: options.ramUnreadable } : {}),
      },
      now(),
      SWEEP_EVENT,
    );
    result.deferred += result.keys.deferred;
    result.failed += result.keys.failed + result.keys.unread;
  }
  const oss = member?.oss ?? deps.oss;
  const assessor = new Assessor(oss, deps.runtime.config, {
    accountId: options.accountId,
    region: deps.region,
    now: now(),
  });
  const listing = new OssGateway(oss, deps.region, new CallLog());
  const guards = new GuardQueue(runId, options, result, now, budget);
  const progress = new Progress(resume?.after);
  const refs = bucketRefs(listing, resume?.after);
  let stopped = false;
  let failure: { error: unknown } | undefined;

  const sweepOne = async (ref: BucketRef, seq: number): Promise<void> => {
    const a = await assessor.assess(ref);
    if (a.kind === 'gone') result.gone += 1;
    else if (a.kind === 'failed') {
      result.failed += 1;
      deps.log.warn('bucket could not be assessed', { bucket: a.bucket, error: a.error });
    } else if (a.kind === 'exposed') {
      result.exposed += 1;
      if (a.exposure.excepted) result.excepted += 1;
      else await guards.handle(a.exposure);
    }
    progress.done(seq);
  };
  // A worker never rejects: every one ends before the checkpoint, so nothing is in flight when FC freezes
  // the instance, and the first failure stops the others from starting buckets.
  const worker = async (): Promise<void> => {
    try {
      while (!failure) {
        if (now().getTime() >= options.deadline) {
          stopped = true;
          return;
        }
        const next = await refs.next();
        if (next.done) return;
        await sweepOne(next.value, progress.start(next.value.name));
      }
    } catch (error) {
      failure ??= { error };
    }
  };
  let written = false;
  const record = async (): Promise<void> => {
    if (written) return;
    written = true;
    await refs.return(undefined);
    Object.assign(result, progress.covered());
    await checkpoint(
      checkpoints,
      {
        kind: 'ossguard-sweep-checkpoint',
        runId,
        startedAt,
        seq: (resume?.seq ?? 0) + 1,
        ...(progress.after ? { after: progress.after } : {}),
        complete: result.complete,
        buckets: (resume?.buckets ?? 0) + result.buckets,
        exposed: (resume?.exposed ?? 0) + result.exposed,
        writtenAt: now().toISOString(),
      },
      deps,
    );
  };
  try {
    await Promise.all(Array.from({ length: options.concurrency ?? SWEEP_CONCURRENCY }, worker));
    if (failure) throw failure.error;
    result.complete = !stopped;
    // Once per run, when its buckets are done: objects under prefixes the audit log shows were exposed.
    if (result.complete) {
      // Checkpointed before the object pass: should FC kill the run in it, the run is on record all the same,
      // so that the next invocation starts a new run and, in an organization, takes this member after the
      // others (shared/sweep/members.ts orders them by their latest checkpoint).
      await record();
      const objects = await sweepExposedObjects(
        { ...deps, budget, followUp: true },
        runId,
        options.accountId,
        now(),
        options.deadline,
        member?.oss,
      );
      for (const d of objects.decisions)
        result.decisions[d.decision] = (result.decisions[d.decision] ?? 0) + 1;
      const capped = objects.retryableFailures.filter((f) => f.capped).length;
      result.deferred += capped;
      result.failed += objects.retryableFailures.length - capped;
      const { decisions: _decisions, retryableFailures: _failures, ...counts } = objects;
      result.objects = counts;
    }
  } finally {
    await record();
  }
  if (result.deferred > 0) await reportCapped('oss-sweeper', result.deferred, deps);
  deps.log.info('sweep', {
    runId,
    resumed: result.resumed,
    buckets: result.buckets,
    exposed: result.exposed,
    failed: result.failed,
    complete: result.complete,
    last: result.last,
    ...(result.objects
      ? {
          objectsUnfinished: result.objects.unfinished,
          auditRecordsUnread: result.objects.recordsUnread,
          auditDaysUnlisted: result.objects.daysUnlisted,
        }
      : {}),
  });
  return result;
}

/** The buckets of `bucketPages`, one at a time. */
async function* bucketRefs(oss: OssGateway, after?: string): AsyncGenerator<BucketRef, void, undefined> {
  for await (const page of bucketPages(oss, after)) yield* page;
}

/**
 * Which buckets are covered, in listing order. Buckets finish out of order; a checkpoint may only name the
 * last of an unbroken run of finished ones, or a bucket after a gap would be skipped by the next invocation.
 */
export class Progress {
  private started = 0;
  private finished = 0;
  private readonly names = new Map<number, string>();
  private readonly early = new Set<number>();
  private first: string | undefined;

  constructor(public after: string | undefined) {}

  start(name: string): number {
    this.names.set(this.started, name);
    return this.started++;
  }

  done(seq: number): void {
    this.early.add(seq);
    while (this.early.delete(this.finished)) {
      const name = this.names.get(this.finished);
      this.names.delete(this.finished);
      this.first ??= name;
      this.after = name;
      this.finished += 1;
    }
  }

  covered(): Pick<SweepResult, 'first' | 'last' | 'buckets'> {
    return {
      buckets: this.finished,
      ...(this.first ? { first: this.first, last: this.after } : {}),
    };
  }
}

/**
 * Hands exposures to the guards, through the same pipeline as an event: fresh re-read, decide, act, alert,
 * audit. Exposures found while a batch is with the guards wait and go together in the next batch. One batch
 * at a time keeps the blast-radius cap exact across the invocation: each batch gets what the earlier ones
 * left of it.
 */
class GuardQueue {
  private waiting: Array<{ exposure: Exposure; settle: (error?: unknown) => void }> = [];
  private draining = false;

  constructor(
    private readonly runId: string,
    private readonly options: SweepOptions,
    private readonly result: SweepResult,
    private readonly now: () => Date,
    private readonly budget: RemediationBudget,
  ) {}

  /** Resolves once the guards have judged the exposure; rejects if its batch failed. */
  handle(exposure: Exposure): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ exposure, settle: (error) => (error === undefined ? resolve() : reject(error)) });
      if (!this.draining) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.draining = true;
    while (this.waiting.length > 0) {
      const batch = this.waiting.splice(0);
      let failure: unknown;
      try {
        await this.run(batch.map((w) => w.exposure));
      } catch (error) {
        failure = error ?? new Error('the guards failed without an error');
      }
      for (const w of batch) w.settle(failure);
    }
    this.draining = false;
  }

  private async run(exposures: readonly Exposure[]): Promise<void> {
    const { deps, accountId } = this.options;
    for (const { kind, run } of HANDLERS) {
      const changes: ParsedItem[] = exposures
        .filter((e) => e[kind].length > 0)
        .map((e, index) => ({
          kind: 'change',
          index,
          record: sweepChange(this.runId, kind, e, accountId, this.now()),
        }));
      if (changes.length === 0) continue;
      const outcome = await run(changes, {
        ...deps,
        budget: this.budget,
        invocationId: `${deps.invocationId}/${kind}`,
        // One alert per invocation about what the cap held back, sent by the sweep once it is done.
        followUp: true,
      });
      for (const d of outcome.decisions) {
        this.result.decisions[d.decision] = (this.result.decisions[d.decision] ?? 0) + 1;
      }
      const capped = outcome.retryableFailures.filter((f) => f.capped).length;
      this.result.deferred += capped;
      this.result.failed += outcome.retryableFailures.length - capped;
    }
  }
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
 * The change a sweep finding is: no API call, so no ActionTrail record, only the bucket to re-read. The
 * eventId is unique per run, bucket and guard: a run resumed after a hard kill may assess a bucket again, and
 * the pipeline's audit check then makes it a duplicate.
 */
function sweepChange(
  runId: string,
  kind: string,
  exposure: Exposure,
  accountId: string,
  time: Date,
): ChangeRecord {
  const eventId = `sweep-${runId}-${kind}-${exposure.bucket}`;
  return {
    dedupeKey: eventId,
    eventId,
    eventName: SWEEP_EVENT,
    eventType: SWEEP_EVENT,
    service: 'Oss',
    region: exposure.region,
    ...(accountId ? { accountId } : {}),
    time: time.toISOString(),
    actor: { type: 'system', userName: 'oss-sweeper' },
    resources: { bucket: exposure.bucket },
    requestParameters: {},
    origin: 'sweep',
  };
}
