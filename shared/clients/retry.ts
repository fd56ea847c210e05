import { CloudApiError } from '../errors';
import { withRetries } from '../retry';

export interface RetryOptions {
  /** Total attempts, the first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  sleep?: (ms: number) => Promise<void>;
}

export const DEFAULT_RETRY: RetryOptions = { attempts: 4, baseDelayMs: 150, maxDelayMs: 2_000 };

/**
 * Retries cloud faults (5xx, throttling, timeouts, resets) with full-jitter exponential backoff; refusals
 * (4xx such as AccessDenied, NoSuchBucket) fail at once. What still fails after the last attempt propagates,
 * so the invocation fails and EventBridge redelivers the event.
 */
export async function withRetry<T>(
  call: () => Promise<T>,
  options: RetryOptions = DEFAULT_RETRY,
): Promise<T> {
  let answer: { value: T } | undefined;
  let lastError: unknown;
  await withRetries(
    async (attempt) => {
      try {
        answer = { value: await call() };
        return { ok: true };
      } catch (error) {
        lastError = error;
        if (!(error instanceof CloudApiError && error.retryable)) return { ok: false, error: String(error) };
        const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (attempt - 1));
        return { ok: false, error: String(error), retryAfterMs: Math.random() * ceiling };
      }
    },
    { maxAttempts: options.attempts, sleep: options.sleep },
  );
  if (answer) return answer.value;
  throw lastError;
}

/** Vendor codes that mean "try again" even when the HTTP status alone would not (POP throttles with a 400). */
const RETRYABLE_SERVICE_CODES = new Set([
  'InternalError',
  'ServiceUnavailable',
  'Throttling', // the POP throttling codes (F-ACTIONTRAIL-THROTTLING-CODES)
  'Throttling.User',
  'Throttling.Api',
  'RequestTimeout',
]);

/**
 * Failures on the way to the service or back, by the code the SDKs report them with: Node's socket codes
 * (the POP SDKs pass them through) and ali-oss's names for them (`RequestError` for a refused or failed
 * connection, `ResponseError` for a reset or "socket hang up", both with status -1; the two timeouts).
 */
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'RequestError',
  'ResponseError',
  'ResponseTimeoutError',
  'ConnectionTimeoutError',
  'SocketError',
]);

/**
 * The same faults when only the message names them: Node's socket codes, and the POP SDKs' timeouts, which
 * httpx throws with neither a code nor a status (`ReadTimeout(10000)`, `ConnectTimeout: Connect … failed.`).
 */
const NETWORK_MESSAGE =
  /socket hang up|\b(ECONNRESET|ECONNREFUSED|ECONNABORTED|ETIMEDOUT|EPIPE|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH)\b|^(ReadTimeout|ConnectTimeout)\b/;

/**
 * The one classifier behind every client (OSS, POP, SLS). With an HTTP answer, the service decides: 5xx,
 * 429 and throttling codes are worth another try, other refusals are final. Without one (no status, or
 * ali-oss's -1/-2), only a network fault is: a request the client would not even send (a bucket name
 * ali-oss rejects, a header value with a line break, Node's ERR_INVALID_CHAR) fails the same way every time,
 * and retrying it would only carry the event into the dead-letter list instead of the audit log.
 */
export function isRetryable(status: number | undefined, code: string, message = ''): boolean {
  if (status !== undefined && status >= 100)
    return status >= 500 || status === 429 || RETRYABLE_SERVICE_CODES.has(code);
  return NETWORK_CODES.has(code) || NETWORK_MESSAGE.test(message);
}
