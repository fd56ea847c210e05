export interface PacerClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

const realClock: PacerClock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/**
 * Lets at most `limit` calls run within any `windowMs`. The server counts a call when its request arrives, which
 * our clock cannot see: on a loaded machine a call can wait long between its start here and the wire, and then
 * arrive close behind the next ones. It surely arrived before its answer came back, so a call holds its place in
 * the window from its start until `windowMs` after its answer: the calls the server counts within any window are
 * then at most `limit`, however late each one left.
 */
export class CallPacer {
  /** When each counted call's place frees: Infinity while it runs. */
  private readonly places: Array<{ freesAt: number }> = [];
  private notBefore = 0;
  private answered: Array<() => void> = [];

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly clock: PacerClock = realClock,
  ) {}

  /** Runs `call` once it may start, counting it until `windowMs` after it settles. */
  async run<T>(call: () => Promise<T>): Promise<T> {
    const place = await this.place();
    try {
      return await call();
    } finally {
      place.freesAt = this.clock.now() + this.windowMs;
      for (const wake of this.answered.splice(0)) wake();
    }
  }

  /** The server asked us to wait (Throttling): no call starts for `ms`. */
  holdOff(ms: number): void {
    this.notBefore = Math.max(this.notBefore, this.clock.now() + ms);
  }

  private async place(): Promise<{ freesAt: number }> {
    for (;;) {
      const now = this.clock.now();
      for (let i = this.places.length - 1; i >= 0; i--)
        if ((this.places[i] as { freesAt: number }).freesAt <= now) this.places.splice(i, 1);
      const firstFree = Math.min(...this.places.map((p) => p.freesAt));
      const wait = Math.max(this.notBefore - now, this.places.length < this.limit ? 0 : firstFree - now);
      if (wait <= 0) {
        const place = { freesAt: Number.POSITIVE_INFINITY };
        this.places.push(place);
        return place;
      }
      // Every place is held by a call still running: its answer frees one.
      if (wait === Number.POSITIVE_INFINITY) await new Promise<void>((wake) => this.answered.push(wake));
      else await this.clock.sleep(wait);
    }
  }
}
