/**
 * The one retry loop, behind the cloud clients (shared/clients/retry.ts: which faults to retry, full-jitter
 * backoff) and the alert channels (DingTalk's and SMTP's answers, within the function's deadline).
 *
 * Not p-retry: it sleeps on its own timers (tests drive the waits through `sleep` and `now`), its
 * randomisation multiplies the delay by 1–2 rather than the full jitter the clients use, a failure cannot
 * name its own wait (a DingTalk rate limit asks for a given pause), and its `maxRetryTime` is checked after
 * a wait rather than before one starts. Bending it to those would cost more code than this loop.
 */
/** What one try of a delivery came to. `retryAfterMs` present means the failure is worth another try. */
export type AttemptOutcome = { ok: true } | { ok: false; error: string; retryAfterMs?: number };

export interface RetryPolicy {
  maxAttempts: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  /**
   * Epoch ms after which no retry starts; none: no deadline. Alerts are sent before the audit record is
   * written, inside the FC function's timeout: a channel that keeps failing must not cost the invocation its
   * audit record.
   */
  deadline?: number;
}

export interface Delivery {
  ok: boolean;
  attempts: number;
  error?: string;
}

export const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Exponential backoff: base, 2×base, 4×base... */
export const backoff = (baseMs: number, attempt: number): number => baseMs * 2 ** (attempt - 1);

/** Runs `attempt` until it succeeds, fails permanently, runs out of attempts, or a wait would pass the deadline. */
export async function withRetries(
  attempt: (n: number) => Promise<AttemptOutcome>,
  policy: RetryPolicy,
): Promise<Delivery> {
  for (let n = 1; ; n++) {
    const outcome = await attempt(n);
    if (outcome.ok) return { ok: true, attempts: n };
    const wait = outcome.retryAfterMs;
    if (wait === undefined || n >= policy.maxAttempts)
      return { ok: false, attempts: n, error: outcome.error };
    if (policy.deadline !== undefined && (policy.now ?? Date.now)() + wait > policy.deadline) {
      return { ok: false, attempts: n, error: `${outcome.error} (no time left to retry)` };
    }
    await (policy.sleep ?? defaultSleep)(wait);
  }
}
