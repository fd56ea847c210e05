export interface ThrottleStats {
  /** Calls that reached the limiter, throttled ones included. */
  calls: number;
  throttled: number;
  /** The most calls one caller sent within any one-second window: what a client's pacing achieved. */
  peakCallsPerSecond: number;
}

const WINDOW_MS = 1000;

const recent = (times: number[], nowMs: number): number[] => times.filter((t) => nowMs - t < WINDOW_MS);

/** A sliding one-second window per caller (F-ACTIONTRAIL-LOOKUP-RATE); refused calls use no allowance. */
export class RateLimiter {
  private readonly admitted = new Map<string, number[]>();
  private readonly attempted = new Map<string, number[]>();
  private calls = 0;
  private throttled = 0;
  private peak = 0;

  constructor(private readonly perSecond: number) {}

  /** 0 when the call may proceed (and is counted), else the milliseconds until the caller may call again. */
  admit(caller: string, nowMs: number): number {
    this.calls += 1;
    const attempts = [...recent(this.attempted.get(caller) ?? [], nowMs), nowMs];
    this.attempted.set(caller, attempts);
    this.peak = Math.max(this.peak, attempts.length);

    const admitted = recent(this.admitted.get(caller) ?? [], nowMs);
    const oldest = admitted[0];
    if (admitted.length >= this.perSecond && oldest !== undefined) {
      this.admitted.set(caller, admitted);
      this.throttled += 1;
      return Math.max(1, oldest + WINDOW_MS - nowMs);
    }
    this.admitted.set(caller, [...admitted, nowMs]);
    return 0;
  }

  stats(): ThrottleStats {
    return { calls: this.calls, throttled: this.throttled, peakCallsPerSecond: this.peak };
  }
}
