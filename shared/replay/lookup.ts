import { actionTrailCaller, actionTrailParams } from '../clients/actiontrail';
import { CallLog } from '../clients/calllog';
import type { CloudCredentials } from '../clients/oss';
import { popCall } from '../clients/pop';
import { CloudApiError } from '../errors';
import { CallPacer } from './pacer';

/** One LookupEvents answer (API 2020-07-06, F-ACTIONTRAIL-LOOKUP-API). */
export interface LookupPage {
  nextToken: string;
  events: unknown[];
}

/** One LookupEvents call; `query` takes the request fields, `LookupAttribute` as a list of {Key, Value}. */
export type LookupEvents = (query: Record<string, unknown>) => Promise<LookupPage>;

/** LookupEvents as the generated ActionTrail client would call it; tests speak to the emulator with it too. */
export const LOOKUP_PARAMS = actionTrailParams('LookupEvents');

/** Documented: "at most twice per second" per caller. */
export const LOOKUP_CALLS_PER_SECOND = 2;
/** The documented window; the pacer counts it from each call's answer, so no slack is needed (pacer.ts). */
const PACER_WINDOW_MS = 1_000;

/** A pacer for LookupEvents: the documented rate (F-ACTIONTRAIL-LOOKUP-RATE) unless a local cloud allows more. */
export const lookupPacer = (callsPerSecond = LOOKUP_CALLS_PER_SECOND): CallPacer =>
  new CallPacer(callsPerSecond, PACER_WINDOW_MS);
/** LookupEvents keeps 90 days of events. */
export const LOOKUP_RETENTION_DAYS = 90;
const MAX_RESULTS = '50';
const NO_RETRY = { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 };

/** LookupEvents (F-ACTIONTRAIL-LOOKUP-API); the endpoint is regional unless overridden. */
export function actionTrailLookup(
  credentials: CloudCredentials,
  region: string,
  endpoint?: string,
): LookupEvents {
  const call = actionTrailCaller(credentials, region, endpoint);
  const log = new CallLog();
  return async (query) => {
    const { body } = await popCall('actiontrail', 'LookupEvents', log, NO_RETRY, async () => ({
      body: await call('LookupEvents', query),
    }));
    return {
      nextToken: typeof body.NextToken === 'string' ? body.NextToken : '',
      events: Array.isArray(body.Events) ? body.Events : [],
    };
  };
}

export interface LookupStats {
  calls: number;
  throttled: number;
}

export interface PagedLookupOptions {
  pacer?: CallPacer;
  /** Attempts per page when the call is throttled or meets a fault. */
  attempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
}

/** `yyyy-MM-ddTHH:mm:ssZ`, the only time format LookupEvents takes; `end` rounds up so no second is lost. */
export function lookupTime(date: Date, round: 'down' | 'up'): string {
  const ms = date.getTime();
  const seconds = round === 'down' ? Math.floor(ms / 1000) : Math.ceil(ms / 1000);
  return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Pages through LookupEvents for one event name in a window, oldest first. Every call waits for the pacer
 * (2 per second, F-ACTIONTRAIL-LOOKUP-RATE); a Throttling answer holds the pacer off for the server's
 * `x-acs-retry-after` or an exponential backoff, whichever is longer, then retries the same page.
 */
export class PagedLookup {
  readonly stats: LookupStats = { calls: 0, throttled: 0 };
  private readonly pacer: CallPacer;
  private readonly attempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;

  constructor(
    private readonly lookup: LookupEvents,
    options: PagedLookupOptions = {},
  ) {
    this.pacer = options.pacer ?? lookupPacer();
    this.attempts = options.attempts ?? 8;
    this.baseDelayMs = options.baseDelayMs ?? 500;
    this.maxDelayMs = options.maxDelayMs ?? 16_000;
  }

  events(eventName: string, start: Date, end: Date): AsyncGenerator<unknown[]> {
    return this.where({ Key: 'EventName', Value: eventName }, start, end);
  }

  /** The same, for any one LookupAttribute (`EventAccessKeyId`, F-ACTIONTRAIL-LOOKUP-ACCESSKEY). */
  async *where(attribute: { Key: string; Value: string }, start: Date, end: Date): AsyncGenerator<unknown[]> {
    const query = {
      StartTime: lookupTime(start, 'down'),
      EndTime: lookupTime(end, 'up'),
      Direction: 'FORWARD',
      MaxResults: MAX_RESULTS,
      LookupAttribute: [attribute],
    };
    let token = '';
    do {
      const page = await this.call(token ? { ...query, NextToken: token } : query);
      yield page.events;
      token = page.nextToken;
    } while (token);
  }

  private async call(query: Record<string, unknown>): Promise<LookupPage> {
    for (let attempt = 1; ; attempt++) {
      this.stats.calls += 1;
      try {
        return await this.pacer.run(() => this.lookup(query));
      } catch (error) {
        if (!(error instanceof CloudApiError) || !error.retryable || attempt >= this.attempts) throw error;
        const throttled = error.code.includes('Throttling');
        if (throttled) this.stats.throttled += 1;
        const backoff = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1));
        const wait = Math.max(retryAfterOf(error) ?? 0, backoff / 2 + (Math.random() * backoff) / 2);
        this.pacer.holdOff(wait);
      }
    }
  }
}

/** openapi-core's ThrottlingError carries the server's `x-acs-retry-after` (ms) as `retryAfter`. */
function retryAfterOf(error: CloudApiError): number | undefined {
  const after = (error.cause as { retryAfter?: unknown } | undefined)?.retryAfter;
  return typeof after === 'number' && after > 0 ? after : undefined;
}
