import { CloudApiError } from '../errors';

export interface RetryOptions {
  /** Total attempts, the first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  sleep?: (ms: number) => Promise<void>;
}

export const DEFAULT_RETRY: RetryOptions = { attempts: 4, baseDelayMs: 150, maxDelayMs: 2_000 };

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Retries cloud faults (5xx, throttling, timeouts, resets) with full-jitter exponential backoff; refusals
 * (4xx such as AccessDenied, NoSuchBucket) fail at once. What still fails after the last attempt propagates,
 * so the invocation fails and EventBridge redelivers the event.
 */
export async function withRetry<T>(
  call: () => Promise<T>,
  options: RetryOptions = DEFAULT_RETRY,
): Promise<T> {
  const sleep = options.sleep ?? defaultSleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const retryable = error instanceof CloudApiError && error.retryable;
      if (!retryable || attempt >= options.attempts) throw error;
      const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (attempt - 1));
      await sleep(Math.random() * ceiling);
    }
  }
}

/** HTTP status and vendor codes that mean "try again", shared by the OSS and POP (RAM, ActionTrail) clients. */
const RETRYABLE_CODES = new Set([
  'InternalError',
  'ServiceUnavailable',
  'Throttling',
  'Throttling.User',
  'Throttling.Api',
  'RequestTimeout',
  'ResponseTimeoutError',
  'ConnectionTimeoutError',
  'RequestError',
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'SocketError',
]);

export function isRetryable(status: number | undefined, code: string): boolean {
  if (RETRYABLE_CODES.has(code)) return true;
  // ali-oss reports network failures as status -1 (request error) or -2 (response timeout).
  if (status === undefined || status < 0) return true;
  return status >= 500 || status === 429;
}
