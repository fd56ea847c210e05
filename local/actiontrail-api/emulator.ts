import type { EmittedRecord } from '../../shared/events/actiontrail-event';
import { AcsError } from '../acs/errors';
import { type Intercept, PopServer } from '../acs/server';
import type { IdentityStore } from '../identity';
import { lookupEvents } from './lookup';
import { RateLimiter, type ThrottleStats } from './throttle';
import type { TrailCatalog } from './trails';

export interface ActionTrailEmulatorOptions {
  identities: IdentityStore;
  /** Every record the local bus has seen, oldest first. */
  history: () => readonly EmittedRecord[];
  /** LookupEvents calls each caller may make per second: 2 (F-ACTIONTRAIL-LOOKUP-RATE). */
  ratePerSecond?: number;
  /** Delay before each answer. */
  latencyMs?: number;
  /** Fault injection: runs before authentication, for every routed call. */
  intercept?: Intercept;
  /** The server clock: the signature's x-acs-date check, LookupEvents' default window and the throttle. */
  clock?: () => Date;
  /** The trail operations (CreateTrail, GetTrailStatus, PutDataEventSelector, …), when the cloud models trails. */
  trails?: TrailCatalog;
}

const VERSION = '2020-07-06';
const DEFAULT_RATE_PER_SECOND = 2;

/**
 * UNVERIFIED: the status and message (F-ACTIONTRAIL-THROTTLING-CODES). The code is the flow-control one;
 * openapi-core raises any code containing "Throttling" as ThrottlingError.
 */
const THROTTLING = { status: 400, code: 'Throttling', message: 'Request was denied due to flow control.' };

/** ActionTrail's LookupEvents (2020-07-06) over the local event history, with its per-caller rate limit. */
export class ActionTrailEmulator {
  private readonly server: PopServer;
  private readonly limiter: RateLimiter;

  constructor(options: ActionTrailEmulatorOptions) {
    const clock = options.clock ?? (() => new Date());
    this.limiter = new RateLimiter(options.ratePerSecond ?? DEFAULT_RATE_PER_SECOND);
    this.server = new PopServer({
      identities: options.identities,
      versions: [VERSION],
      product: () => 'Actiontrail',
      hostId: () => 'actiontrail.cn-hangzhou.aliyuncs.com',
      route: (_version, action) =>
        action === 'LookupEvents'
          ? (call) => {
              const now = clock();
              const wait = this.limiter.admit(
                `${call.caller.kind}:${call.caller.principalId}`,
                now.getTime(),
              );
              if (wait > 0) throw new AcsError(THROTTLING, undefined, { retryAfterMs: wait });
              return { ...lookupEvents(options.history(), call.params, now) };
            }
          : options.trails?.handler(action),
      clock,
      ...(options.latencyMs !== undefined ? { latencyMs: options.latencyMs } : {}),
      ...(options.intercept ? { intercept: options.intercept } : {}),
    });
  }

  /** Resolves to the endpoint URL, e.g. `http://127.0.0.1:40123`. */
  listen(port?: number, host?: string): Promise<string> {
    return this.server.listen(port, host);
  }

  close(): Promise<void> {
    return this.server.close();
  }

  /** LookupEvents calls seen so far, for tests of a client's pacing. */
  stats(): ThrottleStats {
    return this.limiter.stats();
  }
}
