import type { EventBridgeTrigger, FunctionSpec } from '../../shared/deployment/syaml';
import type { CloudEvent, EmittedRecord } from '../../shared/events/actiontrail-event';
import type { InvokeError, InvokeResult, Invoker } from '../fc/host';

/**
 * The account's default EventBridge bus with the rules the s.yaml's eventbridge triggers create. Each
 * published event goes to every enabled trigger whose pattern matches, as a CloudEvents JSON Buffer, off the
 * publisher's call stack. A failed invocation is redelivered with the same event like the BACKOFF_RETRY
 * policy (3 retries, 10-20 s apart; F-EVENTBRIDGE-RETRY-POLICY), then dead-lettered.
 */

/** Where emulators publish events; the local event bus implements it. */
export interface EventSink {
  publish(event: CloudEvent): void;
}

export interface Delivery {
  eventId: string;
  functionName: string;
  region: string;
  triggerName: string;
  /** 1 for the first delivery, up to maxRetries + 1. */
  attempt: number;
  ok: boolean;
  requestId: string;
  result?: unknown;
  error?: InvokeError;
}

export interface DeadLetter {
  event: CloudEvent;
  functionName: string;
  region: string;
  triggerName: string;
  attempts: number;
  error: InvokeError;
}

export interface LocalEventBusOptions {
  invoker: Invoker;
  /** Called on every publish, so an edited s.yaml takes effect: `() => loadFunctions(path)`. */
  functions(): Promise<readonly FunctionSpec[]>;
  /** Redeliveries after the first failure. Default 3 (BACKOFF_RETRY). */
  maxRetries?: number;
  /** Milliseconds before a redelivery, or a function drawing it. Default: random 10-20 s like EventBridge. */
  retryDelayMs?: number | (() => number);
  /**
   * Deliver an event only to functions whose `region` equals its `aliyunregionid`, as each region's bus
   * would. Default false: with one region deployed every function sees every event, which keeps the local
   * cloud simple; set it once the s.yaml deploys a function to several regions, or each copy gets the event.
   */
  regionScoped?: boolean;
  /** Start paused: see pause(). */
  paused?: boolean;
  onDelivery?(delivery: Delivery): void;
}

interface Route {
  fn: FunctionSpec;
  trigger: EventBridgeTrigger;
}

const randomBackoff = (): number => 10_000 + Math.random() * 10_000;

export class LocalEventBus implements EventSink {
  private readonly events: CloudEvent[] = [];
  private readonly delivered: Delivery[] = [];
  private readonly dead: DeadLetter[] = [];
  private readonly failures: unknown[] = [];
  private readonly timers = new Map<NodeJS.Timeout, () => void>();
  private idleWaiters: Array<() => void> = [];
  private pending = 0;
  private isPaused: boolean;
  private closed = false;

  constructor(private readonly options: LocalEventBusOptions) {
    this.isPaused = options.paused ?? false;
  }

  publish(event: CloudEvent): void {
    this.events.push(event);
    if (this.isPaused || this.closed) return;
    this.track(this.route(event));
  }

  /** Every published CloudEvent, delivered or not, in order. */
  history(): readonly CloudEvent[] {
    return this.events;
  }

  /** The ActionTrail records of every published event: what LookupEvents returns. */
  seen(): EmittedRecord[] {
    return this.events.map((event) => event.data);
  }

  deliveries(): readonly Delivery[] {
    return this.delivered;
  }

  deadLetters(): readonly DeadLetter[] {
    return this.dead;
  }

  get paused(): boolean {
    return this.isPaused;
  }

  /** Like a disabled rule: events published meanwhile are recorded but never delivered, not even later. */
  pause(): void {
    this.isPaused = true;
  }

  resume(): void {
    this.isPaused = false;
  }

  /**
   * Resolves once no delivery is running or waiting to retry. Rejects if routing failed since the last
   * drain (e.g. the s.yaml no longer renders, or its pattern is invalid) so such errors are not lost.
   */
  async drain(): Promise<void> {
    if (this.pending > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    const failures = this.failures.splice(0);
    if (failures.length > 0) throw failures[0];
  }

  get idle(): boolean {
    return this.pending === 0;
  }

  /** Direct invocation, as FC's Invoke API, a timer trigger or `ossguard invoke` would do it. */
  async invoke(functionName: string, payload: Buffer | string, region?: string): Promise<InvokeResult> {
    const candidates = (await this.options.functions()).filter(
      (fn) => fn.functionName === functionName && (region === undefined || fn.region === region),
    );
    const [fn, ...others] = candidates;
    if (!fn) throw new Error(`no function ${functionName}${region ? ` in ${region}` : ''}`);
    if (others.length > 0) throw new Error(`${functionName} is deployed to several regions; say which`);
    return this.options.invoker.invoke(fn, payload);
  }

  /** Stops pending retries; deliveries already running finish. */
  close(): void {
    this.closed = true;
    for (const [timer, wake] of this.timers) {
      clearTimeout(timer);
      wake();
    }
    this.timers.clear();
  }

  private async route(event: CloudEvent): Promise<void> {
    const functions = await this.options.functions();
    const routes: Route[] = functions.flatMap((fn) =>
      fn.triggers
        .filter(
          (trigger): trigger is EventBridgeTrigger =>
            trigger.type === 'eventbridge' &&
            trigger.enabled &&
            trigger.eventSourceType === 'Default' &&
            (!this.options.regionScoped || event.aliyunregionid === fn.region) &&
            trigger.matches(event),
        )
        .map((trigger) => ({ fn, trigger })),
    );
    for (const route of routes) this.track(this.deliver(event, route));
  }

  private async deliver(event: CloudEvent, { fn, trigger }: Route): Promise<void> {
    const payload = Buffer.from(JSON.stringify(event));
    const maxRetries = this.options.maxRetries ?? 3;
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.options.invoker.invoke(fn, payload);
      const delivery: Delivery = {
        eventId: event.id,
        functionName: fn.functionName,
        region: fn.region,
        triggerName: trigger.name,
        attempt,
        ok: outcome.ok,
        requestId: outcome.requestId,
        ...(outcome.ok ? { result: outcome.result } : { error: outcome.error }),
      };
      this.delivered.push(delivery);
      this.options.onDelivery?.(delivery);
      if (outcome.ok) return;
      if (attempt > maxRetries) {
        this.dead.push({
          event,
          functionName: fn.functionName,
          region: fn.region,
          triggerName: trigger.name,
          attempts: attempt,
          error: outcome.error,
        });
        return;
      }
      if (!(await this.sleep())) return;
    }
  }

  /** Resolves true after the retry delay, false if the bus closed meanwhile. */
  private sleep(): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    const { retryDelayMs = randomBackoff } = this.options;
    const delay = typeof retryDelayMs === 'number' ? retryDelayMs : retryDelayMs();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve(!this.closed);
      }, delay);
      this.timers.set(timer, () => resolve(false));
    });
  }

  private track(work: Promise<void>): void {
    this.pending++;
    work
      .catch((error: unknown) => {
        this.failures.push(error);
      })
      .finally(() => {
        this.pending--;
        if (this.pending > 0) return;
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const wake of waiters) wake();
      });
  }
}
