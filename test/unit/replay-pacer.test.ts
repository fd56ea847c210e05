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
    await pacer.acquire();
    starts.push(clock.now());
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
      await pacer.acquire();
      starts.push(clock.now());
    }
    for (const t of starts)
      expect(starts.filter((s) => s >= t && s < t + 1000).length).toBeLessThanOrEqual(2);
  });

  it('holds every call off for as long as the server asked', async () => {
    const clock = fakeClock();
    const pacer = new CallPacer(2, 1000, clock);
    await pacer.acquire();
    pacer.holdOff(5000);
    await pacer.acquire();
    expect(clock.now()).toBe(5000);
  });
});
