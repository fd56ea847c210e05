import type OSS from 'ali-oss';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local/cloud';
import type { DeferredWork } from '../../shared/pipeline/deferred';
import { PIPELINE_PREFIX } from '../../shared/pipeline/remediated';
import { auditRecords, invokeSweeper, startCloud, userClient } from './local-cloud';

const STUCK = 'range-stuck';

/** When the newest item of trail-guard's deferred-work queue may be taken, read from the emulator's store. */
function queuedUntil(cloud: LocalCloud): number {
  const items = (cloud.oss.bucket(cloud.auditBucket)?.objectKeys ?? [])
    .filter((key) => key.startsWith(`${PIPELINE_PREFIX}deferred/`))
    .map(
      (key) => JSON.parse(cloud.oss.object(cloud.auditBucket, key)?.body.toString() ?? '{}') as DeferredWork,
    );
  return Math.max(0, ...items.map((item) => Date.parse(item.notBefore)).filter(Number.isFinite));
}

/** #19 class 12: a log range trail-guard cannot finish hands its unfinished changes on instead of losing them. */
describe('trail-guard hands on what a range cannot finish', () => {
  let cloud: LocalCloud;
  let broken = false;

  beforeAll(async () => {
    cloud = await startCloud(
      {},
      {
        // While `broken`, OSS cannot answer for STUCK's ACL: every attempt at the range meets it.
        intercept: ({ operation, bucket }) =>
          broken && operation === 'GetBucketAcl' && bucket === STUCK
            ? { status: 503, code: 'ServiceUnavailable', message: 'injected' }
            : undefined,
      },
    );
  });
  afterAll(async () => {
    await cloud?.stop();
  });

  it('reverts a change whose range outlasted every retry, once OSS answers again, without a dead letter', async () => {
    const alice = userClient(cloud, 'alice');
    await alice.putBucket(STUCK);
    await cloud.settle();
    // The trail alone: EventBridge's rule is off, as when its delivery is what failed.
    cloud.bus.pause();
    broken = true;
    await alice.putBucketACL(STUCK, 'public-read');
    await cloud.settle();
    broken = false;
    expect(cloud.logTriggers.deadLetters()).toEqual([]);
    expect((await alice.getBucketACL(STUCK)).acl).toBe('public-read');

    // Any later record in the trail starts an invocation, which first drains what was handed on once its
    // wait (growing with each failed drain) is over: the next record goes in when the newest item's is.
    for (let n = 0; n < 30 && (await alice.getBucketACL(STUCK)).acl !== 'private'; n++) {
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, queuedUntil(cloud) - Date.now()) + 50));
      await alice.putBucket(`range-next-${n}`);
      await cloud.settle();
    }
    cloud.bus.resume();

    expect((await alice.getBucketACL(STUCK)).acl).toBe('private');
    const records = (await auditRecords(cloud)).filter(
      (r) => r.resource.bucket === STUCK && r.eventName === 'PutBucketAcl' && r.actor.type === 'ram-user',
    );
    expect(records).toEqual([expect.objectContaining({ decision: 'remediated' })]);
  }, 120_000);

  it('judges no queue item it did not sign: records planted in the audit bucket are not believed', async () => {
    const alice = userClient(cloud, 'alice');
    const bucket = 'handoff-planted';
    await alice.putBucket(bucket);
    await cloud.settle();
    // Public without any record in the trail: only a planted queue item names it.
    await cloud.unobserved(() => alice.putBucketACL(bucket, 'public-read'));
    const now = Date.now();
    const forged = {
      eventId: 'planted-0001',
      eventVersion: 1,
      eventName: 'PutBucketAcl',
      eventType: 'ApiCall',
      eventTime: new Date(now).toISOString(),
      serviceName: 'Oss',
      acsRegion: cloud.region,
      userIdentity: { type: 'ram-user', userName: 'alice', accountId: cloud.identities.accountId },
      requestParameters: { BucketName: bucket, 'x-oss-acl': 'public-read' },
      referencedResources: { 'ACS::OSS::Bucket': [bucket] },
    };
    const item = {
      kind: 'ossguard-deferred',
      from: 'planted',
      reason: 'planted',
      deferredAt: new Date(now).toISOString(),
      attempt: 0,
      notBefore: new Date(now - 1_000).toISOString(),
      routes: { 'oss-acl-guard': [forged] },
    };
    const inverted = String(9_999_999_999_999 - now).padStart(13, '0');
    await cloud.unobserved(() =>
      cloud
        .adminClient(cloud.auditBucket)
        .put(
          `ossguard/pipeline/deferred/${inverted}-planted000000001.json`,
          Buffer.from(JSON.stringify(item)),
        ),
    );
    // A change of someone else's starts a range, and with it a drain of the queue.
    await alice.putBucket('handoff-wake');
    await cloud.settle();

    expect((await auditRecords(cloud)).filter((r) => r.eventId === 'planted-0001')).toEqual([]);
    expect((await alice.getBucketACL(bucket)).acl).toBe('public-read');
  });
});

/** #19 class 2 and 12: what trail-guard handed on is finished by the sweep's timer, with no later change needed. */
describe('the sweep drains the deferred-work queue', () => {
  let cloud: LocalCloud;
  /** Set to pause the trigger as the next range is read: what ossguard writes meanwhile then starts no range. */
  let pauseOnRead = false;

  beforeAll(async () => {
    cloud = await startCloud(
      {},
      {
        slsIntercept: () => {
          if (pauseOnRead) {
            pauseOnRead = false;
            cloud.logTriggers.pause();
          }
          return undefined;
        },
      },
    );
    // Object ACL changes travel in the trail alone; EventBridge stays out of it.
    cloud.bus.pause();
  });
  afterAll(async () => {
    await cloud?.stop();
  });

  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  /** Objects of a new bucket, made while the trail is read as usual. */
  async function objects(bucket: string, count: number): Promise<{ client: OSS; keys: string[] }> {
    const client = userClient(cloud, 'alice', bucket);
    await userClient(cloud, 'alice').putBucket(bucket);
    const keys = Array.from({ length: count }, (_, i) => `burst/${String(i).padStart(3, '0')}.txt`);
    for (const key of keys) await client.put(key, Buffer.from(key));
    await cloud.settle();
    return { client, keys };
  }

  /**
   * Makes the changes reach trail-guard as one range, pausing the trigger as that range is read: the queue's
   * own writes are trail records too, and no later range may drain the queue here.
   */
  async function oneRange(change: () => Promise<void>): Promise<void> {
    cloud.logTriggers.pause();
    await change();
    const before = cloud.logTriggers.deliveries().length;
    pauseOnRead = true;
    cloud.logTriggers.resume();
    while (cloud.logTriggers.deliveries().length === before) await sleep(2);
    await cloud.logTriggers.drain();
  }

  const sweepOnce = (payload: Record<string, unknown> = {}) =>
    invokeSweeper<{ drained: number }>(cloud, payload);

  const publicCount = async (client: OSS, keys: string[]) =>
    (await Promise.all(keys.map(async (key) => (await client.getACL(key)).acl))).filter(
      (acl) => acl !== 'private',
    ).length;

  /** Each change's audit records, by event id: every one must have exactly one. */
  async function recordsPerChange(bucket: string): Promise<number[]> {
    const records = (await auditRecords(cloud)).filter(
      (r) => r.eventName === 'PutObjectAcl' && r.resource.bucket === bucket && r.actor.type === 'ram-user',
    );
    const per = new Map<string, number>();
    for (const r of records) per.set(r.eventId, (per.get(r.eventId) ?? 0) + 1);
    return [...per.values()];
  }

  it('finishes a burst above the blast-radius cap on the next sweep, with no later change in the trail', async () => {
    const { client, keys } = await objects('drain-burst', 4);
    cloud.setConfig({ maxRemediationsPerInvocation: 2 });
    await oneRange(async () => {
      for (const key of keys) await client.putACL(key, 'public-read');
    });
    expect(await publicCount(client, keys)).toBe(2);

    expect((await sweepOnce()).drained).toBe(1);
    expect(await publicCount(client, keys)).toBe(0);
    cloud.logTriggers.resume();
    await cloud.settle();
    expect(await recordsPerChange('drain-burst')).toEqual([1, 1, 1, 1]);
    cloud.setConfig({});
  }, 120_000);

  it('drains a queue larger than one invocation has time for over several, each change judged once', async () => {
    // One more than an item holds (50, shared/pipeline/deferred.ts) after the cap's one, and a few: two items,
    // so that a run taking one must leave the other queued for a later run.
    const { client, keys } = await objects('drain-big', 55);
    cloud.setConfig({ maxRemediationsPerInvocation: 1 });
    await oneRange(async () => {
      for (const key of keys) await client.putACL(key, 'public-read');
    });
    // The cap let one change through: the rest waits in items of at most 50.
    const waiting = await publicCount(client, keys);
    expect(waiting).toBeGreaterThan(50);

    // A run with no time to spare takes one item and leaves the rest queued, until none is left.
    cloud.setConfig({ maxRemediationsPerInvocation: 200 });
    const drained: number[] = [];
    const left: number[] = [waiting];
    for (let run = 0; run < 8 && drained.at(-1) !== 0; run++) {
      drained.push((await sweepOnce({ deadlineMs: 0 })).drained);
      left.push(await publicCount(client, keys));
    }
    expect(drained.at(-1)).toBe(0);
    expect(drained.slice(0, -1).every((n) => n === 1)).toBe(true);
    expect(drained.length).toBeGreaterThanOrEqual(3);
    // Each run finished at most one item's 50 changes, and the last found none left.
    const done = left.slice(1).map((n, i) => (left[i] as number) - n);
    expect(done.every((n) => n >= 0 && n <= 50)).toBe(true);
    expect(left.at(-1)).toBe(0);
    cloud.logTriggers.resume();
    await cloud.settle();
    const per = await recordsPerChange('drain-big');
    expect(per).toHaveLength(55);
    expect(per.every((n) => n === 1)).toBe(true);
    cloud.setConfig({});
  }, 180_000);
});
