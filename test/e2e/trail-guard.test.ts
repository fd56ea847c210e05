import Ram, * as $Ram from '@alicloud/ram20150501';
import type OSS from 'ali-oss';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLE_POLICY_TEMPLATE } from '../../deploy/role';
import { type LocalCloud, TRAIL_LOGSTORE, type TrailModel } from '../../local/cloud';
import type { AuditRecord } from '../../shared/audit/record';
import type { LogTriggerResult } from '../../shared/logtrigger/handler';
import { auditRecords, ramClient, startCloud, userClient } from './local-cloud';

const BUCKET = 'photos-log-trigger';
const FUNCTION = 'trail-guard';

/** Audit records about one object's change by people, not ossguard's own revert. */
async function objectDecisions(cloud: LocalCloud, key: string, bucket = BUCKET) {
  return (await auditRecords(cloud)).filter(
    (r) => r.resource.bucket === bucket && r.resource.objectKey === key && r.actor.type !== 'assumed-role',
  );
}

/** What the log-triggered function returned, summed over its successful invocations. */
function trailTotals(cloud: LocalCloud) {
  const results = cloud.logTriggers
    .deliveries()
    .filter((d) => d.ok)
    .map((d) => d.result as LogTriggerResult);
  return {
    ignored: results.reduce((sum, r) => sum + r.ignored, 0),
    rechecked: results.reduce((sum, r) => sum + r.rechecked, 0),
    decisions: results.flatMap((r) => r.decisions),
  };
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

  it('reads trail logs in the documented layout: topic actiontrail_audit_event, the record as JSON in `event`', () => {
    const shards = cloud.sls.store.shards('ossguard-trail', TRAIL_LOGSTORE);
    const group = typeof shards === 'string' ? undefined : shards[0]?.[0];
    expect(group?.topic).toBe('actiontrail_audit_event');
    expect(Object.keys(group?.logs[0] ?? {})).toEqual(['event']);
    expect(JSON.parse(group?.logs[0]?.event ?? '{}')).toMatchObject({ eventName: 'PutBucket' });
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

  it('reverts an object uploaded public with x-oss-object-acl, and audits neither plain uploads nor reads', async () => {
    await alice.put('plain.txt', Buffer.from('nothing to see'));
    await alice.get('plain.txt');
    await alice.put('public.txt', Buffer.from('oops'), { headers: { 'x-oss-object-acl': 'public-read' } });
    await cloud.settle();

    expect(cloud.oss.object(BUCKET, 'public.txt')?.acl).toBe('private');
    const records = await objectDecisions(cloud, 'public.txt');
    expect(records.map((r) => [r.eventName, r.decision])).toEqual([['PutObject', 'remediated']]);
    expect(await objectDecisions(cloud, 'plain.txt')).toEqual([]);
    const totals = trailTotals(cloud);
    expect(totals.ignored).toBeGreaterThan(0);
    expect(totals.rechecked).toBeGreaterThan(0);
  }, 60_000);

  it('acts once on a bucket ACL change that both EventBridge and the trail deliver', async () => {
    await alice.putBucketACL(BUCKET, 'public-read');
    await cloud.settle();

    expect(cloud.oss.bucket(BUCKET)?.acl).toBe('private');
    const records = (await auditRecords(cloud)).filter(
      (r) => r.eventName === 'PutBucketAcl' && r.actor.type !== 'assumed-role',
    );
    expect(records.map((r) => r.decision)).toEqual(['remediated']);
    const eventId = records[0]?.eventId;
    const onBus = cloud.bus.deliveries().filter((d) => d.functionName === 'oss-acl-guard' && d.ok);
    const viaTrail = trailTotals(cloud).decisions.filter((d) => d.eventId === eventId);
    expect(viaTrail).toHaveLength(1);
    // Whichever path came second found the first one's audit record.
    const busDecisions = onBus.flatMap(
      (d) => (d.result as { decisions: Array<{ eventId: string; decision: string }> }).decisions,
    );
    expect(
      [...viaTrail, ...busDecisions.filter((d) => d.eventId === eventId)].map((d) => d.decision).sort(),
    ).toEqual(['duplicate', 'remediated']);
  }, 60_000);

  it('does nothing again when a range is delivered a second time', async () => {
    const acted = cloud.logTriggers
      .deliveries()
      .filter(
        (d) => d.ok && (d.result as LogTriggerResult).decisions.some((x) => x.decision === 'remediated'),
      );
    expect(acted.length).toBeGreaterThanOrEqual(2);
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

describe('the trail as the only feed, with EventBridge switched off', () => {
  let cloud: LocalCloud;

  beforeAll(async () => {
    cloud = await startCloud({}, { eventBridge: false });
  }, 60_000);

  afterAll(async () => {
    await cloud?.stop();
  });

  it('reverts a public bucket ACL and judges a new AccessKey from the logstore alone', async () => {
    const alice = userClient(cloud, 'alice', 'only-trail');
    await alice.putBucket('only-trail');
    await alice.putBucketACL('only-trail', 'public-read-write');
    cloud.identities.createUser('bob');
    const { key } = cloud.identities.userWithKey('alice');
    const ram = ramClient(cloud, Ram, key);
    const created = await ram.createAccessKey(new $Ram.CreateAccessKeyRequest({ userName: 'bob' }));
    await cloud.settle();

    expect(cloud.bus.deliveries()).toEqual([]);
    expect(cloud.oss.bucket('only-trail')?.acl).toBe('private');
    const records = (await auditRecords(cloud)).filter((r) => r.actor.type !== 'assumed-role');
    const byEvent = (name: string): AuditRecord[] => records.filter((r) => r.eventName === name);
    expect(byEvent('PutBucketAcl').map((r) => [r.guard, r.decision])).toEqual([
      ['oss-acl-guard', 'remediated'],
    ]);
    const keyRecords = byEvent('CreateAccessKey');
    expect(keyRecords.map((r) => r.guard)).toEqual(['access-key-guard']);
    expect(keyRecords[0]?.resource.accessKeyId).toBe(created.body?.accessKey?.accessKeyId);
    expect(keyRecords[0]?.rules.map((r) => r.ruleId)).toContain('key-for-other-user');
  }, 60_000);

  it('repairs a bucket made public right after its creation once, on the change that made it public, when both come in one range', async () => {
    const alice = userClient(cloud, 'alice', 'one-range');
    cloud.logTriggers.pause();
    await alice.putBucket('one-range');
    await alice.putBucketACL('one-range', 'public-read');
    cloud.logTriggers.resume();
    await cloud.settle();

    expect(cloud.oss.bucket('one-range')?.acl).toBe('private');
    const records = (await auditRecords(cloud)).filter(
      (r) => r.resource.bucket === 'one-range' && r.actor.type !== 'assumed-role',
    );
    const exposed = records.find((r) => r.eventName === 'PutBucketAcl');
    expect(records.map((r) => [r.eventName, r.decision, r.remediatedBy?.eventId]).sort()).toEqual([
      ['PutBucket', 'skipped', exposed?.eventId],
      ['PutBucketAcl', 'remediated', undefined],
    ]);
    const created = records.find((r) => r.eventName === 'PutBucket');
    expect(created?.reason).toContain(
      `ossguard reverted it after this change, for PutBucketAcl ${exposed?.eventId}`,
    );
    expect(cloud.smtp.messages().filter((m) => m.mail.text?.includes('one-range'))).toHaveLength(1);
  }, 60_000);
});

describe.each<[string, TrailModel]>([
  ['records PutObjectAcl as a management event', { objectAclCategory: 'management' }],
  ['shows no ACL header in upload records', { showsObjectAclHeader: false }],
  ['does both', { objectAclCategory: 'management', showsObjectAclHeader: false }],
])('no object stays public when the trail %s', (_what, trailModel) => {
  let cloud: LocalCloud;

  beforeAll(async () => {
    cloud = await startCloud({}, { trailModel });
  }, 60_000);

  afterAll(async () => {
    await cloud?.stop();
  });

  it('reverts public uploads and public object ACLs, each with one audit record', async () => {
    const bucket = 'undocumented-answers';
    const alice = userClient(cloud, 'alice', bucket);
    await alice.putBucket(bucket);
    await alice.put('uploaded.txt', Buffer.from('a'), {
      headers: { 'x-oss-object-acl': 'public-read-write' },
    });
    await alice.copy('copied.txt', 'uploaded.txt', { headers: { 'x-oss-object-acl': 'public-read' } });
    await alice.put('later.txt', Buffer.from('b'));
    await alice.putACL('later.txt', 'public-read');
    await alice.put('private.txt', Buffer.from('c'));
    await cloud.settle();

    for (const key of ['uploaded.txt', 'copied.txt', 'later.txt']) {
      expect(cloud.oss.object(bucket, key)?.acl, key).not.toMatch(/^public/);
      const records = await objectDecisions(cloud, key, bucket);
      expect(
        records.filter((r) => r.decision === 'remediated'),
        key,
      ).toHaveLength(1);
    }
    expect(await objectDecisions(cloud, 'private.txt', bucket)).toEqual([]);
  }, 60_000);
});

describe.each([
  ['refuses the JSON the SDK asks for', 'refused'],
  ['answers protobuf whatever is asked', 'protobuf'],
] as const)('the trail read when SLS %s (F-SLS-PULLLOGS-FORMAT)', (_what, slsPullLogsJson) => {
  let cloud: LocalCloud;

  beforeAll(async () => {
    cloud = await startCloud({}, { slsPullLogsJson, eventBridge: false });
  }, 60_000);

  afterAll(async () => {
    await cloud?.stop();
  });

  it('reads the range as the documented protobuf and reverts the public object and bucket in it', async () => {
    const alice = userClient(cloud, 'alice', 'protobuf-only');
    await alice.putBucket('protobuf-only');
    await alice.put('x.txt', Buffer.from('x'));
    await alice.putACL('x.txt', 'public-read');
    await alice.putBucketACL('protobuf-only', 'public-read');
    await cloud.settle();

    expect(cloud.oss.object('protobuf-only', 'x.txt')?.acl).toBe('private');
    expect(cloud.oss.bucket('protobuf-only')?.acl).toBe('private');
    expect(cloud.logTriggers.deadLetters()).toEqual([]);
    const reverted = await auditRecords(cloud);
    // The bucket's creation and its ACL change share the range and are judged at once: one or both revert
    // the bucket (reverting twice is harmless), and one skipped after the other's revert names it in
    // `remediatedBy`.
    expect(
      reverted.filter(
        (r) =>
          r.resource.bucket === 'protobuf-only' &&
          (r.eventName === 'PutBucketAcl' || r.eventName === 'PutBucket') &&
          r.decision === 'remediated',
      ).length,
    ).toBeGreaterThanOrEqual(1);
    expect(cloud.sls.answers.json).toBe(0);
    expect(cloud.sls.answers.protobuf).toBeGreaterThan(0);
  }, 60_000);
});

describe('an upload that shows no ACL, in a range with other records about its object', () => {
  let cloud: LocalCloud;

  beforeAll(async () => {
    cloud = await startCloud({}, { trailModel: { showsObjectAclHeader: false }, eventBridge: false });
  }, 60_000);

  afterAll(async () => {
    await cloud?.stop();
  });

  it('is re-checked and reverted even when a failed PutObjectAcl on the same object follows it', async () => {
    const alice = userClient(cloud, 'alice', 'decoy-acl');
    await alice.putBucket('decoy-acl');
    await cloud.settle();
    cloud.logTriggers.pause();
    await alice.put('leak.txt', Buffer.from('x'), { headers: { 'x-oss-object-acl': 'public-read' } });
    await expect(alice.putACL('leak.txt', 'bogus' as 'private')).rejects.toThrow();
    cloud.logTriggers.resume();
    await cloud.settle();

    expect(cloud.oss.object('decoy-acl', 'leak.txt')?.acl).toBe('private');
    const records = await objectDecisions(cloud, 'leak.txt', 'decoy-acl');
    expect(records.map((r) => [r.eventName, r.decision]).sort()).toEqual([
      ['PutObject', 'remediated'],
      ['PutObjectAcl', 'skipped'],
    ]);
  }, 60_000);
});

describe('a log-triggered invocation whose PullLogs is refused', () => {
  let cloud: LocalCloud;

  beforeAll(async () => {
    const policy = JSON.parse(ROLE_POLICY_TEMPLATE) as { Statement: Array<{ Action: string[] }> };
    policy.Statement = policy.Statement.filter((s) => !s.Action.includes('log:GetCursorOrData'));
    cloud = await startCloud({}, { rolePolicy: JSON.stringify(policy), eventBridge: false });
  }, 60_000);

  afterAll(async () => {
    await cloud?.stop();
  });

  it('fails, is retried maxRetryTime times with the same range, then is dead-lettered', async () => {
    const alice = userClient(cloud, 'alice', BUCKET);
    // Paused so that everything is one range.
    cloud.logTriggers.pause();
    await alice.putBucket(BUCKET);
    await alice.put('x.txt', Buffer.from('x'), { headers: { 'x-oss-object-acl': 'public-read' } });
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
