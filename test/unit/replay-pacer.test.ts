import { describe, expect, it } from 'vitest';
import { CallPacer, type PacerClock } from '../../shared/replay/pacer';

/** A clock that only moves when the pacer sleeps, so start times are exact. */
function fakeClock(): PacerClock & { time: number } {
  const clock = {
    time: 0,
    now: () => clock.time,
    sleep: async (ms: number) => {
      clock.time += ms;
    },
  };
  return clock;
}

async function startTimes(pacer: CallPacer, clock: { now(): number }, calls: number): Promise<number[]> {
  const starts: number[] = [];
  for (let i = 0; i < calls; i++) {
    await pacer.run(async () => starts.push(clock.now()));
  }
  return starts;
}

describe('CallPacer', () => {
  it.each([
    [2, 1000, 6, [0, 0, 1000, 1000, 2000, 2000]],
    [2, 1100, 5, [0, 0, 1100, 1100, 2200]],
    [1, 500, 3, [0, 500, 1000]],
  ])('lets %i call(s) start per %i ms window', async (limit, windowMs, calls, expected) => {
    const clock = fakeClock();
    expect(await startTimes(new CallPacer(limit, windowMs, clock), clock, calls)).toEqual(expected);
  });

  it('never lets more than the limit start within any window, whenever callers arrive', async () => {
    const clock = fakeClock();
    const pacer = new CallPacer(2, 1000, clock);
    const starts: number[] = [];
    for (const gap of [0, 300, 300, 300, 50, 2000, 10, 10]) {
      clock.time += gap;
      await pacer.run(async () => starts.push(clock.now()));
    }
    for (const t of starts)
      expect(starts.filter((s) => s >= t && s < t + 1000).length).toBeLessThanOrEqual(2);
  });

  it("counts a call's window from its answer, since the server may have counted it as late as that", async () => {
    const clock = fakeClock();
    const pacer = new CallPacer(1, 1000, clock);
    await pacer.run(() => clock.sleep(600));
    const second = await pacer.run(async () => clock.now());
    expect(second).toBe(1600);
  });

  it('lets no call start while every place is held by a call still running', async () => {
    const clock = fakeClock();
    const pacer = new CallPacer(1, 1000, clock);
    let answer: () => void = () => undefined;
    const order: string[] = [];
    const first = pacer.run(() =>
      new Promise<void>((resolve) => (answer = resolve)).then(() => order.push('first')),
    );
    const second = pacer.run(async () => order.push(`second at ${clock.now()}`));
    await new Promise((resolve) => setTimeout(resolve, 10));
    clock.time = 300;
    answer();
    await Promise.all([first, second]);
    expect(order).toEqual(['first', 'second at 1300']);
  });

  it('holds every call off for as long as the server asked', async () => {
    const clock = fakeClock();
    const pacer = new CallPacer(2, 1000, clock);
    await pacer.run(async () => undefined);
    pacer.holdOff(5000);
    await pacer.run(async () => undefined);
    expect(clock.now()).toBe(5000);
  });
});
