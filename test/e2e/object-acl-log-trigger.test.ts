import type OSS from 'ali-oss';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLE_POLICY_TEMPLATE } from '../../deploy/role';
import { type LocalCloud, TRAIL_LOGSTORE } from '../../local/cloud';
import type { LogTriggerResult } from '../../shared/logtrigger/handler';
import { auditRecords, startCloud, userClient } from './local-cloud';

const BUCKET = 'photos-log-trigger';
const FUNCTION = 'oss-object-acl-guard';

/** Audit records about one object's change by people, not ossguard's own revert. */
async function objectDecisions(cloud: LocalCloud, key: string) {
  return (await auditRecords(cloud)).filter(
    (r) => r.resource.bucket === BUCKET && r.resource.objectKey === key && r.actor.type !== 'assumed-role',
  );
}

describe('object ACL changes through the trail logstore and its log trigger', () => {
  let cloud: LocalCloud;
  let alice: OSS;

  beforeAll(async () => {
    cloud = await startCloud();
    alice = userClient(cloud, 'alice', BUCKET);
    await alice.putBucket(BUCKET);
    await cloud.settle();
  }, 60_000);

  afterAll(async () => {
    await cloud?.stop();
  });

  it('reverts an object a user made public with PutObjectAcl, with exactly one audit record', async () => {
    await alice.put('report.pdf', Buffer.from('quarterly numbers'));
    await alice.putACL('report.pdf', 'public-read');
    await cloud.settle();

    expect(cloud.oss.object(BUCKET, 'report.pdf')?.acl).toBe('private');
    const records = await objectDecisions(cloud, 'report.pdf');
    expect(records.map((r) => [r.eventName, r.decision])).toEqual([['PutObjectAcl', 'remediated']]);
    expect(records[0]?.before).toEqual({ acl: 'public-read' });
    expect(records[0]?.guard).toBe('oss-acl-guard');
    expect(cloud.logTriggers.deadLetters()).toEqual([]);
  }, 60_000);

  it('reverts an object uploaded public with x-oss-object-acl, and ignores plain uploads and reads', async () => {
    await alice.put('plain.txt', Buffer.from('nothing to see'));
    await alice.get('plain.txt');
    await alice.put('public.txt', Buffer.from('oops'), { headers: { 'x-oss-object-acl': 'public-read' } });
    await cloud.settle();

    expect(cloud.oss.object(BUCKET, 'public.txt')?.acl).toBe('private');
    const records = await objectDecisions(cloud, 'public.txt');
    expect(records.map((r) => [r.eventName, r.decision])).toEqual([['PutObject', 'remediated']]);
    expect(await objectDecisions(cloud, 'plain.txt')).toEqual([]);
    const ignored = cloud.logTriggers
      .deliveries()
      .filter((d) => d.ok)
      .reduce((sum, d) => sum + ((d.result as LogTriggerResult).ignored ?? 0), 0);
    expect(ignored).toBeGreaterThan(0);
  }, 60_000);

  it('does nothing again when a range is delivered a second time', async () => {
    const acted = cloud.logTriggers
      .deliveries()
      .filter(
        (d) => d.ok && (d.result as LogTriggerResult).decisions.some((x) => x.decision === 'remediated'),
      );
    expect(acted).toHaveLength(2);
    const before = (await auditRecords(cloud)).length;

    for (const delivery of acted) {
      const again = await cloud.bus.invoke(FUNCTION, JSON.stringify(delivery.event));
      if (!again.ok) throw new Error(`redelivery failed: ${JSON.stringify(again.error)}`);
      const { decisions } = again.result as LogTriggerResult;
      expect(decisions.length).toBeGreaterThan(0);
      expect(decisions.every((d) => d.decision === 'duplicate')).toBe(true);
    }
    await cloud.settle();
    expect(await auditRecords(cloud)).toHaveLength(before);
  }, 60_000);
});

describe('a log-triggered invocation whose PullLogs is refused', () => {
  let cloud: LocalCloud;

  beforeAll(async () => {
    const policy = JSON.parse(ROLE_POLICY_TEMPLATE) as { Statement: Array<{ Action: string[] }> };
    policy.Statement = policy.Statement.filter((s) => !s.Action.includes('log:GetCursorOrData'));
    cloud = await startCloud(
      {},
      {
        rolePolicy: JSON.stringify(policy),
      },
    );
  }, 60_000);

  afterAll(async () => {
    await cloud?.stop();
  });

  it('fails, is retried maxRetryTime times with the same range, then is dead-lettered', async () => {
    const alice = userClient(cloud, 'alice', BUCKET);
    // Paused until the bucket's own audit write has landed too, so that everything is one range.
    cloud.logTriggers.pause();
    await alice.putBucket(BUCKET);
    await alice.put('x.txt', Buffer.from('x'), { headers: { 'x-oss-object-acl': 'public-read' } });
    await cloud.bus.drain();
    cloud.logTriggers.resume();
    await cloud.settle();

    const [dead, ...more] = cloud.logTriggers.deadLetters();
    expect(more).toEqual([]);
    expect(dead?.attempts).toBe(6);
    expect(dead?.event.source.logstoreName).toBe(TRAIL_LOGSTORE);
    expect(dead?.error.message).toMatch(/GetCursorOrData|Unauthorized/);
    const ranges = new Set(cloud.logTriggers.deliveries().map((d) => d.event.source.beginCursor));
    expect(ranges.size).toBe(1);
    expect(cloud.oss.object(BUCKET, 'x.txt')?.acl).toBe('public-read');
  }, 60_000);
});
