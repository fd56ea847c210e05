import pLimit from 'p-limit';
import { describe, expect, it } from 'vitest';
import type { ChangeRecord, ParsedItem } from '../../shared/events/types';
import { inResourceOrder } from '../../shared/pipeline/dedupe';

const change = (index: number, bucket: string, objectKey?: string): ParsedItem => ({
  kind: 'change',
  index,
  record: {
    region: 'cn-hangzhou',
    resources: { bucket, ...(objectKey ? { objectKey } : {}) },
  } as ChangeRecord,
});

/** Handles the batch, each item taking a tick, and says which items were under way together. */
async function overlaps(items: ParsedItem[]): Promise<Array<[number, number]>> {
  const running = new Set<number>();
  const together: Array<[number, number]> = [];
  await inResourceOrder(items, pLimit(8), async (item) => {
    for (const other of running) together.push([other, item.index]);
    running.add(item.index);
    await new Promise((resolve) => setTimeout(resolve, 5));
    running.delete(item.index);
  });
  return together;
}

describe('a batch handled in resource order', () => {
  it('handles the changes of one bucket one after another, in batch order', async () => {
    const order: number[] = [];
    await inResourceOrder([change(0, 'b'), change(1, 'b'), change(2, 'b')], pLimit(8), async (item) => {
      await new Promise((resolve) => setTimeout(resolve, 5 - item.index));
      order.push(item.index);
    });
    expect(order).toEqual([0, 1, 2]);
    expect(await overlaps([change(0, 'b'), change(1, 'b')])).toEqual([]);
  });

  it('handles different buckets, and different objects of one bucket, at once', async () => {
    expect(await overlaps([change(0, 'a'), change(1, 'b')])).toEqual([[0, 1]]);
    expect(await overlaps([change(0, 'a', 'x'), change(1, 'a', 'y'), change(2, 'a')])).toHaveLength(3);
  });

  it('returns each outcome in the place of its item, and goes on past one that failed', async () => {
    const items = [change(0, 'b'), change(1, 'b'), { kind: 'ignored', index: 2, reason: 'r' } as const];
    const handled: number[] = [];
    const outcomes = inResourceOrder(items, pLimit(8), async (item) => {
      handled.push(item.index);
      if (item.index === 0) throw new Error('boom');
      return item.index;
    });
    await expect(outcomes).rejects.toThrow('boom');
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(handled.sort()).toEqual([0, 1, 2]);
    expect(await inResourceOrder(items.slice(1), pLimit(8), async (item) => item.index)).toEqual([1, 2]);
  });
});
