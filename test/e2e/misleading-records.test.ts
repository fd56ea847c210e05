import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local/cloud';
import { intentKey } from '../../shared/audit/record';
import type { CloudEvent } from '../../shared/events/actiontrail-event';
import type { InvocationResult } from '../../shared/pipeline/run';
import { auditRecords, startCloud, userClient } from './local-cloud';

/** #19 class 10: every record says truthfully what happened, and where it is filed. */
describe('audit records that do not mislead', () => {
  let cloud: LocalCloud;

  beforeAll(async () => {
    cloud = await startCloud();
  });
  afterAll(async () => {
    await cloud?.stop();
  });

  /** Runs `work` unwatched and returns the CloudEvents it published, to hand to the function by hand. */
  async function eventsOf(work: () => Promise<unknown>): Promise<CloudEvent[]> {
    const before = cloud.bus.history().length;
    await cloud.unobserved(work);
    return cloud.bus.history().slice(before);
  }

  const recordOf = async (eventId: string) =>
    (await auditRecords(cloud)).find((r) => r.eventId === eventId && r.guard === 'oss-acl-guard');

  it('ties the skipped record of a change to the revert an earlier event of the same bucket already made', async () => {
    const alice = userClient(cloud, 'alice');
    const [created, aclSet] = await eventsOf(async () => {
      await alice.putBucket('created-public', { acl: 'public-read' } as never);
      await alice.putBucketACL('created-public', 'public-read-write');
    });
    if (!created || !aclSet) throw new Error('the changes published no events');
    expect((await cloud.bus.invoke('oss-acl-guard', JSON.stringify(created))).ok).toBe(true);
    expect((await cloud.bus.invoke('oss-acl-guard', JSON.stringify(aclSet))).ok).toBe(true);
    await cloud.settle();

    const first = await recordOf(created.data.eventId as string);
    const second = await recordOf(aclSet.data.eventId as string);
    expect(first).toMatchObject({ eventName: 'PutBucket', decision: 'remediated' });
    expect(second).toMatchObject({
      eventName: 'PutBucketAcl',
      decision: 'skipped',
      remediatedBy: { eventId: created.data.eventId, eventName: 'PutBucket' },
    });
    expect(second?.remediatedBy?.auditKey).toMatch(
      /^ossguard\/audit\/\d{4}\/\d{2}\/\d{2}\/[0-9a-f]{40}\.json$/,
    );
  });

  it('takes a later delivery of a change recorded past an intent someone planted as a duplicate: no retry, one alert', async () => {
    const alice = userClient(cloud, 'alice');
    await alice.putBucket('planted-intent');
    await cloud.settle();
    const [event] = await eventsOf(() => alice.putBucketACL('planted-intent', 'public-read'));
    if (!event) throw new Error('the change published no event');
    const eventId = event.data.eventId as string;
    // Someone who can write the audit bucket, without the audit key, takes the first attempt's intent key.
    const planted = intentKey('ossguard/audit/', eventId, event.data.eventTime as string);
    await cloud.adminClient(cloud.auditBucket).put(planted, Buffer.from('{"planted":true}'));
    expect((await cloud.bus.invoke('oss-acl-guard', JSON.stringify(event))).ok).toBe(true);
    // The same change delivered again while the bucket is public again (made so by a change not delivered yet).
    await cloud.unobserved(() => alice.putBucketACL('planted-intent', 'public-read'));
    const again = await cloud.bus.invoke('oss-acl-guard', JSON.stringify(event));
    expect(again.ok).toBe(true);
    const decisions = (again.ok ? (again.result as InvocationResult) : undefined)?.decisions ?? [];
    expect(decisions.map((d) => d.decision)).toEqual(['duplicate']);
    await cloud.settle();
    expect((await auditRecords(cloud)).filter((r) => r.eventId === eventId)).toHaveLength(1);
    expect(cloud.dingtalk.messages().filter((m) => JSON.stringify(m.body).includes(eventId))).toHaveLength(1);
  });

  it('names the function and route that judged an object ACL change', async () => {
    const alice = userClient(cloud, 'alice', 'object-route');
    await alice.putBucket('object-route');
    await alice.put('notes.txt', Buffer.from('x'));
    await cloud.settle();
    await alice.putACL('notes.txt', 'public-read');
    await cloud.settle();

    const records = (await auditRecords(cloud)).filter(
      (r) =>
        r.resource.objectKey === 'notes.txt' && r.eventName === 'PutObjectAcl' && r.actor.type === 'ram-user',
    );
    expect(records).toEqual([
      expect.objectContaining({
        decision: 'remediated',
        guard: 'oss-acl-guard',
        route: 'trail-guard/oss-acl-guard',
      }),
    ]);
  }, 60_000);

  it('files a change whose eventTime is no time under the time it was received, flagged, and still judges it', async () => {
    const alice = userClient(cloud, 'alice');
    await alice.putBucket('undated-change');
    await cloud.settle();
    const [event] = await eventsOf(() => alice.putBucketACL('undated-change', 'public-read'));
    if (!event) throw new Error('the change published no event');
    const undated = { ...event, data: { ...event.data, eventTime: 'yesterday, around noon' } };
    const received = new Date();
    expect((await cloud.bus.invoke('oss-acl-guard', JSON.stringify(undated))).ok).toBe(true);

    const record = await recordOf(event.data.eventId as string);
    expect(record).toMatchObject({ decision: 'remediated', eventTimeUnparsed: 'yesterday, around noon' });
    expect(Date.parse(record?.time ?? '')).toBeGreaterThanOrEqual(received.getTime() - 1_000);
    expect((await alice.getBucketACL('undated-change')).acl).toBe('private');
  });
});
