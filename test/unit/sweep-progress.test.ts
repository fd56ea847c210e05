import { describe, expect, it } from 'vitest';
import { Progress } from '../../shared/sweep/sweep';

/** Starts `names` in order, finishes those at the indexes `finished` in that order: what is covered? */
function cover(after: string | undefined, names: string[], finished: number[]) {
  const progress = new Progress(after);
  const seqs = names.map((n) => progress.start(n));
  for (const i of finished) progress.done(seqs[i] as number);
  return { after: progress.after, ...progress.covered() };
}

describe('which buckets a sweep checkpoint may count as covered', () => {
  it.each([
    ['nothing started: the resumed position stays', 'a', [], [], { after: 'a', buckets: 0 }],
    [
      'all finished out of order: up to the last',
      undefined,
      ['b', 'c', 'd'],
      [2, 0, 1],
      { after: 'd', first: 'b', last: 'd', buckets: 3 },
    ],
    [
      'a gap: only up to the bucket before it',
      'a',
      ['b', 'c', 'd'],
      [0, 2],
      { after: 'b', first: 'b', last: 'b', buckets: 1 },
    ],
    [
      'the first still running: nothing, whatever finished after it',
      'a',
      ['b', 'c'],
      [1],
      { after: 'a', buckets: 0 },
    ],
  ])('%s', (_what, after, names, finished, expected) => {
    expect(cover(after, names, finished)).toEqual(expected);
  });
});
