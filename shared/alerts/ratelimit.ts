import type { Alert } from './types';

/**
 * The share of every DingTalk budget (the robot's per process, and each window of the one all instances share)
 * that only a message carrying a critical alert may take, in percent: 3 of the shared window's 10 slots, 6 of a
 * process's 20 a minute. Without it, ten low or medium alerting changes a minute (object ACLs, say) kept every
 * critical alert off DingTalk. Why 30: a message with a critical alert carries all of its invocation's critical
 * alerts (the planner sends them first, and once only reserved slots remain, as one digest), so 3 slots a
 * window take the critical alerts of three invocations a window however much else is going on, which critical
 * findings (a bucket made public-read-write, an admin policy attached, a root key used) rarely exceed; the other
 * 7 (14 a minute across two windows, which is also what the per-process share allows) still carry several
 * hundred lesser alerts a window as digests (what a burst has beyond them goes by email alone, as before).
 * Critical messages take the lowest free slot like any other, so the reserve is used only once the rest is gone.
 */
export const CRITICAL_RESERVE_PERCENT = 30;

/** Whether a message may take reserved slots: it carries at least one critical alert. */
export const carriesCritical = (alerts: readonly Alert[]): boolean =>
  alerts.some((alert) => alert.severity === 'critical');

/**
 * Of a budget of `limit` sends, those kept for critical messages: at least one whenever there are two (else a
 * robot given a small `messagesPerMinute` would keep none), never all of them.
 */
export const reservedForCritical = (limit: number): number =>
  Math.min(limit - 1, Math.ceil((limit * CRITICAL_RESERVE_PERCENT) / 100));

/** How many of `limit` sends a message may use: all of them for a critical one, else those not reserved. */
export const usableSlots = (limit: number, critical: boolean): number =>
  critical ? limit : limit - reservedForCritical(limit);

/**
 * At most `limit` sends in any `windowMs`. A sliding log rather than a token bucket: a bucket holding 20
 * tokens that refills at 20 per minute admits up to 40 sends within one minute (a full bucket, then the
 * refill), which DingTalk's "20 messages per minute" would punish with a 10-minute block
 * (F-DINGTALK-RATE-LIMIT).
 */
export class SlidingWindowLimiter {
  private readonly sent: number[] = [];

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly now: () => number,
  ) {}

  private prune(): void {
    const horizon = this.now() - this.windowMs;
    while (this.sent.length > 0 && (this.sent[0] ?? 0) <= horizon) this.sent.shift();
  }

  /** Sends allowed right now for a message that carries a critical alert, or for one that does not. */
  remaining(critical: boolean): number {
    this.prune();
    return Math.max(0, usableSlots(this.limit, critical) - this.sent.length);
  }

  record(): void {
    this.sent.push(this.now());
  }
}
