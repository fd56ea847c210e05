import { createHash, randomUUID } from 'node:crypto';
import type { FunctionSpec, LogTrigger } from '../../shared/deployment/syaml';
import type { LogTriggerEvent } from '../../shared/logtrigger/event';
import type { InvokeError, Invoker } from '../fc/host';
import { type AppendedRange, cursorAt, positionOf, type SlsStore } from '../sls/store';

/**
 * The SLS side of the s.yaml's log triggers: for every enabled trigger on a logstore, a per-shard job that
 * waits one trigger interval after new logs land, then invokes the function with the shard's cursor range
 * since its last checkpoint, in the documented log-trigger event shape (F-FC-LOGTRIGGER-INVOCATION). A failed
 * invocation is retried `maxRetryTime` times with the same range; after that the range is dead-lettered and skipped, so one
 * poisoned range cannot stall the shard. Checkpoints start at the beginning of each shard: the local
 * logstore is created empty with the cloud, so that is "new data only", as for a trigger without `startTime`.
 */

export interface LogDelivery {
  functionName: string;
  triggerName: string;
  event: LogTriggerEvent;
  attempt: number;
  ok: boolean;
  requestId: string;
  result?: unknown;
  error?: InvokeError;
}

export interface LogDeadLetter {
  functionName: string;
  triggerName: string;
  event: LogTriggerEvent;
  attempts: number;
  /** The trigger's `maxRetryTime` when the range was given up. */
  maxRetries: number;
  error: InvokeError;
}

export interface LogTriggerRunnerOptions {
  store: SlsStore;
  invoker: Invoker;
  functions(): Promise<readonly FunctionSpec[]>;
  /** The SLS endpoint the event names (the local emulator's URL). */
  endpoint(): string;
  /** Locally a range collects logs this long instead of the trigger's `triggerInterval` seconds. */
  intervalMs?: number;
  retryDelayMs?: number;
}

interface Job {
  fn: FunctionSpec;
  trigger: LogTrigger;
  shardId: number;
  /** Position of the next log group to deliver. */
  checkpoint: number;
  timer?: NodeJS.Timeout;
  running?: Promise<void>;
}

export class LogTriggerRunner {
  private readonly jobs = new Map<string, Job>();
  private readonly delivered: LogDelivery[] = [];
  private readonly dead: LogDeadLetter[] = [];
  private readonly failures: unknown[] = [];
  private readonly pending = new Set<Promise<void>>();
  private closed = false;
  /** While paused: one appended range per shard, to schedule on resume. */
  private held: Map<string, AppendedRange> | undefined;

  constructor(private readonly options: LogTriggerRunnerOptions) {
    options.store.onAppend((range) => {
      if (!this.hold(range)) this.track(this.schedule(range));
    });
  }

  /**
   * Like stopping the trigger's ETL job: logs keep landing in the logstore, and on resume each trigger
   * reads on from its checkpoint, so everything written meanwhile arrives as one range per shard.
   */
  pause(): void {
    this.held ??= new Map();
  }

  /** While paused, keeps the shard for `resume` and says so. */
  private hold(range: AppendedRange): boolean {
    this.held?.set(`${range.project}/${range.logstore}/${range.shardId}`, range);
    return this.held !== undefined;
  }

  resume(): void {
    const held = this.held;
    this.held = undefined;
    for (const range of held?.values() ?? []) this.track(this.schedule(range));
  }

  deliveries(): readonly LogDelivery[] {
    return this.delivered;
  }

  deadLetters(): readonly LogDeadLetter[] {
    return this.dead;
  }

  /**
   * Resolves once no range is waiting for its interval or being delivered (or the runner is closed: its
   * timers will not fire); rethrows a routing failure.
   */
  async drain(): Promise<void> {
    while (this.pending.size > 0 && !this.closed) await Promise.allSettled([...this.pending]);
    const failures = this.failures.splice(0);
    if (failures.length > 0) throw failures[0];
  }

  get idle(): boolean {
    return this.pending.size === 0;
  }

  close(): void {
    this.closed = true;
    for (const job of this.jobs.values()) clearTimeout(job.timer);
  }

  private track(work: Promise<void>): void {
    const tracked = work.catch((error: unknown) => {
      this.failures.push(error);
    });
    this.pending.add(tracked);
    void tracked.finally(() => this.pending.delete(tracked));
  }

  /** Finds the jobs of the triggers on this logstore and arms each one's interval timer. */
  private async schedule(range: AppendedRange): Promise<void> {
    const functions = await this.options.functions();
    const waits: Array<Promise<void>> = [];
    for (const fn of functions) {
      for (const trigger of fn.triggers) {
        if (trigger.type !== 'log' || !trigger.enabled) continue;
        if (trigger.project !== range.project || trigger.logstore !== range.logstore) continue;
        const job = this.jobFor(fn, trigger, range.shardId);
        waits.push(this.arm(job));
      }
    }
    await Promise.all(waits);
  }

  private jobFor(fn: FunctionSpec, trigger: LogTrigger, shardId: number): Job {
    const key = `${fn.region}/${fn.functionName}/${trigger.name}/${shardId}`;
    let job = this.jobs.get(key);
    if (!job) {
      job = { fn, trigger, shardId, checkpoint: 0 };
      this.jobs.set(key, job);
    }
    job.fn = fn;
    job.trigger = trigger;
    return job;
  }

  /**
   * One timer per job: logs landing while it runs join the range it will deliver. A timer that fires while
   * the runner is paused delivers nothing and leaves the shard to `resume`.
   */
  private arm(job: Job): Promise<void> {
    if (job.timer || this.closed) return Promise.resolve();
    const interval = this.options.intervalMs ?? job.trigger.intervalSeconds * 1000;
    return new Promise<void>((resolve) => {
      job.timer = setTimeout(() => {
        job.timer = undefined;
        const { project, logstore } = job.trigger;
        if (this.hold({ project, logstore, shardId: job.shardId })) return resolve();
        // One range at a time per shard, in order, like the SLS ETL job; a failed run does not stop the next.
        const previous = (job.running ?? Promise.resolve()).catch(() => undefined);
        const run = previous.then(() => this.deliver(job));
        job.running = run;
        run.then(resolve, resolve);
        this.track(run);
      }, interval);
    });
  }

  private async deliver(job: Job): Promise<void> {
    const { trigger, fn, shardId } = job;
    const end = positionOf(this.options.store.endCursor(trigger.project, trigger.logstore, shardId)) ?? 0;
    if (end <= job.checkpoint) return;
    const event: LogTriggerEvent = {
      parameter: trigger.parameter,
      source: {
        endpoint: this.options.endpoint(),
        projectName: trigger.project,
        logstoreName: trigger.logstore,
        shardId,
        beginCursor: cursorAt(job.checkpoint),
        endCursor: cursorAt(end),
      },
      jobName: createHash('sha1').update(`${fn.functionName}/${trigger.name}`).digest('hex'),
      taskId: randomUUID(),
      cursorTime: Math.floor(Date.now() / 1000),
    };
    const payload = Buffer.from(JSON.stringify(event));
    for (let attempt = 1; !this.closed; attempt++) {
      const outcome = await this.options.invoker.invoke(fn, payload);
      this.delivered.push({
        functionName: fn.functionName,
        triggerName: trigger.name,
        event,
        attempt,
        ok: outcome.ok,
        requestId: outcome.requestId,
        ...(outcome.ok ? { result: outcome.result } : { error: outcome.error }),
      });
      if (outcome.ok) break;
      if (attempt > trigger.maxRetries) {
        this.dead.push({
          functionName: fn.functionName,
          triggerName: trigger.name,
          event,
          attempts: attempt,
          maxRetries: trigger.maxRetries,
          error: outcome.error,
        });
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, this.options.retryDelayMs ?? 1000));
    }
    job.checkpoint = end;
  }
}
