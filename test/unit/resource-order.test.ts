import pLimit from 'p-limit';
import { describe, expect, it } from 'vitest';
import type { ChangeRecord, ParsedItem } from '../../shared/events/types';
import { aclGuard } from '../../shared/guards/acl';
import { policyGuard } from '../../shared/guards/policy';
import { inResourceOrder } from '../../shared/pipeline/dedupe';
import type { Guard } from '../../shared/pipeline/types';

type Hooks = Pick<Guard<unknown>, 'stateOf' | 'rereadOnly'>;

const change = (
  index: number,
  bucket: string,
  objectKey?: string,
  time = '2026-12-07T12:00:00Z',
  eventName = 'PutBucketAcl',
): ParsedItem => ({
  kind: 'change',
  index,
  record: {
    region: 'cn-hangzhou',
    time,
    eventName,
    service: 'Oss',
    resources: { bucket, ...(objectKey ? { objectKey } : {}) },
    requestParameters: {},
  } as ChangeRecord,
});

/** The order in which the batch's items start. */
async function starts(items: ParsedItem[], guard: Hooks = {}): Promise<number[]> {
  const order: number[] = [];
  await inResourceOrder(
    items,
    pLimit(8),
    async (item) => {
      order.push(item.index);
      await new Promise((resolve) => setTimeout(resolve, 5));
    },
    guard,
  );
  return order;
}

/** Handles the batch, each item taking a tick, and says which items were under way together. */
async function overlaps(items: ParsedItem[], guard: Hooks = {}): Promise<Array<[number, number]>> {
  const running = new Set<number>();
  const together: Array<[number, number]> = [];
  await inResourceOrder(
    items,
    pLimit(8),
    async (item) => {
      for (const other of running) together.push([other, item.index]);
      running.add(item.index);
      await new Promise((resolve) => setTimeout(resolve, 5));
      running.delete(item.index);
    },
    guard,
  );
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
    const guard: Hooks = {};
    const items = [change(0, 'b'), change(1, 'b'), { kind: 'ignored', index: 2, reason: 'r' } as const];
    const handled: number[] = [];
    const outcomes = inResourceOrder(
      items,
      pLimit(8),
      async (item) => {
        handled.push(item.index);
        if (item.index === 1) throw new Error('boom');
        return item.index;
      },
      guard,
    );
    await expect(outcomes).rejects.toThrow('boom');
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(handled.sort()).toEqual([0, 1, 2]);
    expect(await inResourceOrder(items, pLimit(8), async (item) => item.index, guard)).toEqual([0, 1, 2]);
  });

  it("leads a bucket's changes with the newest that set the state, never a tagging call or an upload's part after it", async () => {
    const [early, late] = ['2026-12-07T12:00:10Z', '2026-12-07T12:00:11Z'];
    const policy = change(0, 'b', undefined, early, 'PutBucketPolicy');
    const tagged = change(1, 'b', undefined, late, 'PutBucketTags');
    expect(await starts([policy, tagged], policyGuard)).toEqual([0, 1]);
    const exposed = change(0, 'b', 'log.txt', early, 'PutObjectAcl');
    const part = change(1, 'b', 'log.txt', late, 'UploadPart');
    expect(await starts([exposed, part], aclGuard)).toEqual([0, 1]);
    expect(await overlaps([exposed, part], aclGuard)).toEqual([]);
  });

  it("takes a bucket's ACL and its Block Public Access for two states", async () => {
    const acl = change(0, 'b', undefined, undefined, 'PutBucketAcl');
    const bpa = change(1, 'b', undefined, undefined, 'DeleteBucketPublicAccessBlock');
    expect(await overlaps([acl, bpa], aclGuard)).toEqual([[0, 1]]);
  });

  it('takes RAM changes of one key for one resource whatever region their records name, and with or without its user', async () => {
    const keyChange = (index: number, region: string, ramUser?: string): ParsedItem => {
      const item = change(index, '') as Extract<ParsedItem, { kind: 'change' }>;
      const resources = { accessKeyId: 'LTAIkey', ...(ramUser ? { ramUser } : {}) };
      return { ...item, record: { ...item.record, service: 'Ram', region, resources } };
    };
    expect(await overlaps([keyChange(0, 'cn-shanghai', 'bob'), keyChange(1, 'cn-hangzhou')])).toEqual([]);
  });
});
