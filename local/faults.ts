import type { Intercept, PopOperation } from './acs/server';
import type { InterceptedOperation, InjectedFault as OssAnswer } from './oss/emulator';

/**
 * Fault injection for the local cloud's OSS and RAM/IMS emulators: per-call error rates for the faults a
 * cloud API really shows (500 InternalError, throttling, connection resets, timeouts, slow answers), plus
 * outages that fail every matching call until lifted.
 *
 * Deterministic from a seed: whether the n-th call of an operation on a resource faults, and how, is a hash of
 * (seed, service, operation, resource, n). Concurrent callers interleave differently from run to run, but each
 * resource's own sequence of calls meets the same faults, so a seed replays a failure closely (runs of faults
 * span a bucket's operations, so they follow the order those calls arrive in).
 */

export const FAULT_KINDS = ['internal-error', 'throttled', 'reset', 'slow', 'timeout'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** Probability per call of each kind; they add up to the call's total fault rate. */
export type FaultRates = Partial<Record<FaultKind, number>>;

/**
 * How a total rate splits over the kinds by default. Timeouts are few because each one holds a call for
 * longer than the SDK timeouts (10 s), which is the point of them and also what makes them expensive.
 */
export const DEFAULT_MIX: Readonly<Record<FaultKind, number>> = {
  'internal-error': 0.35,
  throttled: 0.3,
  reset: 0.2,
  slow: 0.14,
  timeout: 0.01,
};

/** Per-kind rates for a total fault rate, split as `mix` says. */
export function ratesFor(total: number, mix: Readonly<Record<FaultKind, number>> = DEFAULT_MIX): FaultRates {
  const sum = FAULT_KINDS.reduce((acc, kind) => acc + mix[kind], 0);
  return Object.fromEntries(FAULT_KINDS.map((kind) => [kind, (total * mix[kind]) / sum]));
}

/** One call as the injector sees it, before the emulator authenticates it. */
export interface FaultCall {
  service: 'oss' | 'ram';
  /** OSS operation (`PutBucketAcl`) or POP action (`CreateAccessKey`). */
  operation: string;
  /** OSS: the bucket; RAM/IMS: the user or AccessKey the call names. */
  bucket?: string;
  key?: string;
  user?: string;
}

export interface InjectedFaultRecord {
  call: FaultCall;
  kind: FaultKind;
  /** Epoch ms. */
  at: number;
  /** Set for outages, absent for faults drawn at the configured rates. */
  outage?: string;
  /** Part of a run of faults on one bucket or user (see `FaultPlan.bursts`). */
  burst?: boolean;
}

export interface FaultPlan {
  seed: number;
  /** Rates for every call not covered by `operations`. */
  rates?: FaultRates;
  /** Rates for particular operations, replacing `rates` for them. */
  operations?: Readonly<Record<string, FaultRates>>;
  /** Only calls this accepts can fault by rate (outages ignore it). Default: every call. */
  scope?: (call: FaultCall) => boolean;
  /** Range of a slow answer's delay. Default 200-1500 ms. */
  slowMs?: { min: number; max: number };
  /** How long a timed-out call is held before it runs. Default 11 s, past the SDKs' 10 s read timeouts. */
  timeoutMs?: number;
  /**
   * Faults that come in runs, as throttling and a busy partition do: this share of the error faults drawn
   * (not slow answers) makes the next `calls` calls on the same bucket or user fail the same way, whatever
   * their operation. Runs long enough outlast an SDK's retries, which is what makes an invocation fail.
   */
  bursts?: { share: number; calls: { min: number; max: number } };
  /** Start with rate faults off; see `enabled`. */
  disabled?: boolean;
}

type Answer = { status: number; code: string; message: string } | 'reset' | { delayMs: number };

// OSS answers throttling with 503 and one of these codes (help.aliyun.com, "HTTP status code 503").
const OSS_THROTTLING = [
  { code: 'ServiceUnavailable', message: 'Thread pool is almost full, please retry later' },
  { code: 'MetaOperationQpsLimitExceeded', message: 'Qps limit for the meta operation is exceeded' },
  { code: 'TotalQpsLimitExceeded', message: 'Max total qps limit is exceeded' },
  { code: 'ActiveRequestLimitExceeded', message: 'Max active request limit is exceeded' },
] as const;

const OSS_INTERNAL = {
  status: 500,
  code: 'InternalError',
  message: 'We encountered an internal error. Please try again.',
};
const POP_INTERNAL = {
  status: 500,
  code: 'InternalError',
  message: 'The request processing has failed due to some unknown error.',
};
// UNVERIFIED status: the POP gateway's flow-control code is documented, its HTTP status is not (400 and 503 both
// appear in public clients). openapi-core raises ThrottlingError on the code alone.
export const POP_THROTTLED = {
  status: 400,
  code: 'Throttling.User',
  message: 'Request was denied due to user flow control.',
};

/** 32-bit FNV-1a, then a murmur3 finaliser: a uniform draw in [0, 1) from a string. */
function unitHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 0x1_0000_0000;
}

interface Outage {
  name: string;
  match: (call: FaultCall) => boolean;
  kind: FaultKind;
  delayMs?: number;
}

export class FaultInjector {
  /** Rate faults on or off; outages apply either way. */
  enabled: boolean;
  private readonly plan: FaultPlan;
  private readonly counters = new Map<string, number>();
  private readonly records: InjectedFaultRecord[] = [];
  private readonly outages = new Set<Outage>();
  /** Runs in progress, by bucket or user: calls still to fail, and how. */
  private readonly bursts = new Map<string, { left: number; kind: FaultKind }>();
  /** When each delayed call runs at the latest, so callers can wait for late writes to land. */
  private readonly delayed: Array<{ call: FaultCall; until: number }> = [];
  private considered = 0;

  constructor(plan: FaultPlan) {
    this.plan = plan;
    this.enabled = !plan.disabled;
  }

  /** For `OssEmulatorOptions.intercept` / `LocalCloudOptions.intercept`. */
  readonly oss = (op: InterceptedOperation): OssAnswer | undefined =>
    this.decide({
      service: 'oss',
      operation: op.operation,
      ...(op.bucket === undefined ? {} : { bucket: op.bucket }),
      ...(op.key === undefined ? {} : { key: op.key }),
    });

  /** For `RamEmulatorOptions.intercept` / `LocalCloudOptions.ramIntercept`. */
  readonly ram: Intercept = (op: PopOperation) => {
    const user = op.params.UserName ?? op.params.UserPrincipalName ?? op.params.UserAccessKeyId;
    return this.decide({ service: 'ram', operation: op.action, ...(user ? { user } : {}) });
  };

  /**
   * Fails every call `match` accepts with `kind` until the returned function is called: a service or a bucket
   * that is briefly unavailable, or unavailable for longer than any retry. `{ delayMs }` slows the calls by
   * exactly that much instead, to order racing handlers.
   */
  outage(
    name: string,
    match: (call: FaultCall) => boolean,
    kind: FaultKind | { delayMs: number } = 'throttled',
  ): () => void {
    const outage: Outage =
      typeof kind === 'string' ? { name, match, kind } : { name, match, kind: 'slow', delayMs: kind.delayMs };
    this.outages.add(outage);
    return () => {
      this.outages.delete(outage);
    };
  }

  /** Every fault injected so far, in order. */
  injected(): readonly InjectedFaultRecord[] {
    return this.records;
  }

  /** Calls seen, and faults injected by kind. */
  stats(): { calls: number; faults: number; byKind: Record<FaultKind, number> } {
    const byKind = Object.fromEntries(FAULT_KINDS.map((kind) => [kind, 0])) as Record<FaultKind, number>;
    for (const record of this.records) byKind[record.kind] += 1;
    return { calls: this.considered, faults: this.records.length, byKind };
  }

  /**
   * When the last delayed call matching `match` will have run (epoch ms, 0 if none): a timed-out write still
   * lands after its client gave up, and a check of final state must wait for it.
   */
  busyUntil(match: (call: FaultCall) => boolean = () => true): number {
    return this.delayed.filter((d) => match(d.call)).reduce((latest, d) => Math.max(latest, d.until), 0);
  }

  private decide(call: FaultCall): Answer | undefined {
    this.considered += 1;
    const identity = `${call.service}:${call.operation}:${call.bucket ?? call.user ?? ''}/${call.key ?? ''}`;
    const n = (this.counters.get(identity) ?? 0) + 1;
    this.counters.set(identity, n);

    for (const outage of this.outages) {
      if (outage.match(call))
        return this.inject(
          call,
          outage.kind,
          unitHash(`${identity}#${n}`),
          { outage: outage.name },
          outage.delayMs,
        );
    }
    if (!this.enabled || (this.plan.scope && !this.plan.scope(call))) return undefined;

    const scope = `${call.service}:${call.bucket ?? call.user ?? ''}`;
    const burst = this.bursts.get(scope);
    if (burst) {
      burst.left -= 1;
      if (burst.left <= 0) this.bursts.delete(scope);
      return this.inject(call, burst.kind, unitHash(`${identity}#${n}`), { burst: true });
    }

    const rates = this.plan.operations?.[call.operation] ?? this.plan.rates ?? {};
    const draw = unitHash(`${this.plan.seed}|${identity}#${n}`);
    let threshold = 0;
    for (const kind of FAULT_KINDS) {
      threshold += rates[kind] ?? 0;
      if (draw >= threshold) continue;
      // Further independent draws pick the details (which throttling code, how slow, whether a run follows).
      const detail = unitHash(`${draw}|${identity}`);
      this.maybeBurst(scope, kind, unitHash(`${detail}|burst`));
      return this.inject(call, kind, detail);
    }
    return undefined;
  }

  private maybeBurst(scope: string, kind: FaultKind, draw: number): void {
    const { bursts } = this.plan;
    if (!bursts || kind === 'slow' || kind === 'timeout' || draw >= bursts.share) return;
    const { min, max } = bursts.calls;
    this.bursts.set(scope, { kind, left: min + Math.floor((draw / bursts.share) * (max - min + 1)) });
  }

  private inject(
    call: FaultCall,
    kind: FaultKind,
    draw: number,
    how: { outage?: string; burst?: boolean } = {},
    delayMs?: number,
  ): Answer {
    const at = Date.now();
    this.records.push({ call, kind, at, ...how });
    const result =
      delayMs !== undefined
        ? { delayMs }
        : call.service === 'oss'
          ? this.ossAnswer(kind, draw)
          : this.popAnswer(kind, draw);
    if (typeof result === 'object' && 'delayMs' in result)
      this.delayed.push({ call, until: at + result.delayMs });
    return result;
  }

  private delay(kind: 'slow' | 'timeout', draw: number): { delayMs: number } {
    if (kind === 'timeout') return { delayMs: this.plan.timeoutMs ?? 11_000 };
    const { min, max } = this.plan.slowMs ?? { min: 200, max: 1_500 };
    return { delayMs: Math.round(min + draw * (max - min)) };
  }

  private ossAnswer(kind: FaultKind, draw: number): Answer {
    switch (kind) {
      case 'internal-error':
        return OSS_INTERNAL;
      case 'throttled': {
        const pick = OSS_THROTTLING[Math.floor(draw * OSS_THROTTLING.length)] ?? OSS_THROTTLING[0];
        return { status: 503, ...pick };
      }
      case 'reset':
        return 'reset';
      default:
        return this.delay(kind, draw);
    }
  }

  private popAnswer(kind: FaultKind, draw: number): Answer {
    switch (kind) {
      case 'internal-error':
        return POP_INTERNAL;
      case 'throttled':
        return POP_THROTTLED;
      case 'reset':
        return 'reset';
      default:
        return this.delay(kind, draw);
    }
  }
}
