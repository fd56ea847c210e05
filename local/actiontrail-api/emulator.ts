import type { EmittedRecord } from '../../shared/events/actiontrail-event';
import { AcsError, GATEWAY_ERRORS } from '../acs/errors';
import { PopEmulator, type PopEmulatorOptions, type PopHandler } from '../acs/server';
import type { IdentityStore } from '../identity';
import { recipientOf } from '../recipient';
import { lookupEvents } from './lookup';
import { RateLimiter, type ThrottleStats } from './throttle';
import { TrailCatalog } from './trails';

export interface ActionTrailEmulatorOptions extends PopEmulatorOptions {
  identities: IdentityStore;
  /** Every record the local bus has seen, oldest first. */
  history: () => readonly EmittedRecord[];
  /** LookupEvents calls each caller may make per second: 2 (F-ACTIONTRAIL-LOOKUP-RATE). */
  ratePerSecond?: number;
  /** The server clock: the signature's x-acs-date check, LookupEvents' default window and the throttle. */
  clock?: () => Date;
  /**
   * The trail operations (CreateTrail, GetTrailStatus, PutDataEventSelector, …), when the cloud models trails:
   * one catalog, or each account's (a call acts in the signer's account; undefined: that account has none).
   */
  trails?: TrailCatalog | ((accountId: string) => TrailCatalog | undefined);
}

const VERSION = '2020-07-06';
const DEFAULT_RATE_PER_SECOND = 2;

/**
 * UNVERIFIED: the status and message (F-ACTIONTRAIL-THROTTLING-CODES). The code is the flow-control one;
 * openapi-core raises any code containing "Throttling" as ThrottlingError.
 */
const THROTTLING = { status: 400, code: 'Throttling', message: 'Request was denied due to flow control.' };

/** A trail action, run on the catalog of the caller's account. */
function trailHandler(trails: ActionTrailEmulatorOptions['trails'], action: string): PopHandler | undefined {
  if (!trails || !TrailCatalog.handles(action)) return undefined;
  const catalogOf = typeof trails === 'function' ? trails : () => trails;
  return (call) => {
    const handler = catalogOf(call.caller.accountId)?.handler(action);
    if (!handler) throw new AcsError(GATEWAY_ERRORS.InvalidActionNotFound, action);
    return handler(call);
  };
}

/** ActionTrail's LookupEvents (2020-07-06) over the local event history, with its per-caller rate limit. */
export class ActionTrailEmulator extends PopEmulator {
  private readonly limiter: RateLimiter;
  private readonly clock: () => Date;
  /** The per-caller limit this emulator enforces. */
  readonly ratePerSecond: number;

  constructor(private readonly options: ActionTrailEmulatorOptions) {
    const clock = options.clock ?? (() => new Date());
    super(
      {
        versions: [VERSION],
        product: () => 'Actiontrail',
        hostId: () => 'actiontrail.cn-hangzhou.aliyuncs.com',
      },
      { ...options, clock },
    );
    this.clock = clock;
    this.ratePerSecond = options.ratePerSecond ?? DEFAULT_RATE_PER_SECOND;
    this.limiter = new RateLimiter(this.ratePerSecond);
  }

  protected route(_version: string, action: string): PopHandler | undefined {
    if (action !== 'LookupEvents') return trailHandler(this.options.trails, action);
    return (call) => {
      const now = this.clock();
      const wait = this.limiter.admit(`${call.caller.kind}:${call.caller.principalId}`, now.getTime());
      if (wait > 0) throw new AcsError(THROTTLING, undefined, { retryAfterMs: wait });
      // Each account's event history holds the events of its own resources (F-ORG-TRAIL-RECIPIENT).
      const history = this.options.history().filter((r) => recipientOf(r) === call.caller.accountId);
      return { ...lookupEvents(history, call.params, now) };
    };
  }

  /** LookupEvents calls seen so far, for tests of a client's pacing. */
  stats(): ThrottleStats {
    return this.limiter.stats();
  }
}
