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

  /** Sends allowed right now. */
  remaining(): number {
    this.prune();
    return Math.max(0, this.limit - this.sent.length);
  }

  /** Milliseconds until a send is allowed; 0 when one is allowed now. */
  waitMs(): number {
    if (this.remaining() > 0) return 0;
    const oldest = this.sent[this.sent.length - this.limit] ?? this.now();
    return Math.max(1, oldest + this.windowMs - this.now());
  }

  record(): void {
    this.sent.push(this.now());
  }
}
