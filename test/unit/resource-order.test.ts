import pLimit from 'p-limit';
import { describe, expect, it } from 'vitest';
import type { ChangeRecord, ParsedItem } from '../../shared/events/types';
import { inResourceOrder } from '../../shared/pipeline/dedupe';

const change = (
  index: number,
  bucket: string,
  objectKey?: string,
  time = '2026-12-07T12:00:00Z',
): ParsedItem => ({
  kind: 'change',
  index,
  record: {
    region: 'cn-hangzhou',
    time,
    resources: { bucket, ...(objectKey ? { objectKey } : {}) },
    requestParameters: {},
  } as ChangeRecord,
});

/** The order in which the batch's items start. */
async function starts(items: ParsedItem[]): Promise<number[]> {
  const order: number[] = [];
  await inResourceOrder(items, pLimit(8), async (item) => {
    order.push(item.index);
    await new Promise((resolve) => setTimeout(resolve, 5));
  });
  return order;
}

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

describe('a batch handled newest change of each resource first', () => {
  it("handles a bucket's newest change first, then its others at once", async () => {
    const batch = [change(0, 'b'), change(1, 'b'), change(2, 'b')];
    expect(await starts(batch)).toEqual([2, 0, 1]);
    expect(await overlaps(batch)).toEqual([[0, 1]]);
  });

  it('takes the newest by event time, and the last in the batch among changes of one second', async () => {
    const late = '2026-12-07T12:00:05Z';
    expect(await starts([change(0, 'b', undefined, late), change(1, 'b'), change(2, 'b')])).toEqual([
      0, 1, 2,
    ]);
    expect(
      (await starts([change(0, 'b'), change(1, 'b', undefined, late), change(2, 'b', undefined, late)]))[0],
    ).toBe(2);
  });

  it('handles different buckets, and different objects of one bucket, at once', async () => {
    expect(await overlaps([change(0, 'a'), change(1, 'b')])).toEqual([[0, 1]]);
    expect(await overlaps([change(0, 'a', 'x'), change(1, 'a', 'y'), change(2, 'a')])).toHaveLength(3);
  });

  it('takes changes of two policies of one account for two resources', async () => {
    const policy = (index: number, PolicyName: string): ParsedItem => {
      const item = change(index, '') as Extract<ParsedItem, { kind: 'change' }>;
      return { ...item, record: { ...item.record, resources: {}, requestParameters: { PolicyName } } };
    };
    expect(await overlaps([policy(0, 'reports'), policy(1, 'admin')])).toEqual([[0, 1]]);
    expect(await overlaps([policy(0, 'reports'), policy(1, 'reports')])).toEqual([]);
  });

  it("takes the account's Block Public Access, set through two regions, for one resource", async () => {
    const account = (index: number, region: string): ParsedItem => {
      const item = change(index, '') as Extract<ParsedItem, { kind: 'change' }>;
      return { ...item, record: { ...item.record, service: 'Oss', region, resources: {} } };
    };
    expect(await overlaps([account(0, 'cn-hangzhou'), account(1, 'cn-shanghai')])).toEqual([]);
  });

  it('returns each outcome in the place of its item, and goes on past a newest change that failed', async () => {
    const items = [change(0, 'b'), change(1, 'b'), { kind: 'ignored', index: 2, reason: 'r' } as const];
    const handled: number[] = [];
    const outcomes = inResourceOrder(items, pLimit(8), async (item) => {
      handled.push(item.index);
      if (item.index === 1) throw new Error('boom');
      return item.index;
    });
    await expect(outcomes).rejects.toThrow('boom');
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(handled.sort()).toEqual([0, 1, 2]);
    expect(await inResourceOrder(items, pLimit(8), async (item) => item.index)).toEqual([0, 1, 2]);
  });
});
