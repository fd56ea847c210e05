export interface PacerClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

const realClock: PacerClock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/**
 * Lets at most `limit` calls start within any `windowMs`, measured on our clock. The server measures on its
 * own, when the request arrives, so callers give the window some slack over the documented one: two calls
 * sent 1,000 ms apart can arrive 990 ms apart when the first was slower on the wire.
 */
export class CallPacer {
  private readonly starts: number[] = [];
  private notBefore = 0;

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly clock: PacerClock = realClock,
  ) {}

  /** Resolves when the next call may start, and counts it as started. */
  async acquire(): Promise<void> {
    for (;;) {
      const now = this.clock.now();
      while (this.starts.length > 0 && now - (this.starts[0] as number) >= this.windowMs) this.starts.shift();
      const wait = Math.max(
        this.notBefore - now,
        this.starts.length < this.limit ? 0 : (this.starts[0] as number) + this.windowMs - now,
      );
      if (wait <= 0) {
        this.starts.push(now);
        return;
      }
      await this.clock.sleep(wait);
    }
  }

  /** The server asked us to wait (Throttling): no call starts for `ms`. */
  holdOff(ms: number): void {
    this.notBefore = Math.max(this.notBefore, this.clock.now() + ms);
  }
}
