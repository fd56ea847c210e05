import type OSS from 'ali-oss';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ConfigPatch, LocalCloud } from '../../local/cloud';
import type { AuditRecord } from '../../shared/audit/record';
import type { OssClient } from '../helpers/oss';
import {
  auditRecords,
  decisionsFor,
  ossChangeEvent,
  publicAccessBlock,
  startCloud,
  userClient,
  watchSecrets,
} from './local-cloud';

/** A bucket a RAM user makes public-read, under a config or circumstance that changes the decision. */
interface DecisionCase {
  what: string;
  bucket: string;
  config?: ConfigPatch;
  tags?: Record<string, string>;
  /** Called just before the change, once setup has drained. */
  arrange?(cloud: LocalCloud): void;
  decision: AuditRecord['decision'];
  aclAfter: string;
  record: Record<string, unknown>;
  /** DingTalk messages about the change, and text one of them must contain. */
  messages: number;
  says?: string;
}

/** Within exceptions.maxLifetimeDays (90). */
const FUTURE = new Date(Date.now() + 60 * 86_400_000).toISOString().slice(0, 10);
const PAST = '2020-01-31';

const CASES: DecisionCase[] = [
  {
    what: 'leaves a bucket public that a config glob excepts',
    bucket: 'site-blog',
    config: { exceptions: { buckets: [{ bucket: 'site-*', reason: 'static website' }] } },
    decision: 'excepted',
    aclAfter: 'public-read',
    record: { exception: { source: 'config', match: 'site-*', reason: 'static website' } },
    // Every excepted decision is alerted (#20): an exception is a risk someone accepted.
    messages: 1,
    says: 'static website',
  },
  {
    what: 'leaves a bucket public whose exception tag has not expired',
    bucket: 'tagged-downloads',
    tags: { 'ossguard-exception': `until=${FUTURE};reason=public downloads;rules=bucket-acl-public-read` },
    decision: 'excepted',
    aclAfter: 'public-read',
    record: { exception: { source: 'tag', until: FUTURE, reason: 'public downloads' } },
    messages: 1,
    says: 'public downloads',
  },
  {
    what: 'reverts a bucket whose exception tag expired, and says why the tag was ignored',
    bucket: 'tagged-stale',
    tags: { 'ossguard-exception': `until=${PAST};reason=old campaign;rules=bucket-acl-public-read` },
    decision: 'remediated',
    aclAfter: 'private',
    record: {
      ignoredExceptions: [{ source: 'tag', match: 'ossguard-exception', why: `expired on ${PAST}` }],
    },
    messages: 1,
    says: `expired on ${PAST}`,
  },
  {
    what: 'changes nothing in dry-run and reports what it would have done',
    bucket: 'dry-run-bucket',
    config: { dryRun: true },
    decision: 'dry-run',
    aclAfter: 'public-read',
    record: { dryRun: true, reason: 'dry-run: would set the bucket ACL to private' },
    messages: 1,
    says: 'would set the bucket ACL to private',
  },
  {
    what: 'only alerts for a rule set to alert mode',
    bucket: 'alert-mode-bucket',
    config: { rules: { 'bucket-acl-public-read': 'alert' } },
    decision: 'alerted',
    aclAfter: 'public-read',
    record: { rules: [{ ruleId: 'bucket-acl-public-read', mode: 'alert' }] },
    messages: 1,
    says: 'alert mode',
  },
  {
    what: 'still reverts when DingTalk refuses the alert (errcode 310000), and audits the failed delivery',
    bucket: 'robot-refuses',
    arrange: (cloud) => cloud.dingtalk.inject({ errcode: 310000, errmsg: 'sign not match' }),
    decision: 'remediated',
    aclAfter: 'private',
    record: {
      alerts: expect.arrayContaining([
        { channel: 'dingtalk', ok: false, attempts: 1, error: 'errcode 310000: sign not match' },
        expect.objectContaining({ channel: 'email', ok: true }),
      ]),
    },
    messages: 0,
  },
];

describe('oss-acl-guard decisions beyond remediation, through the bundled function', () => {
  let cloud: LocalCloud;
  let secrets: ReturnType<typeof watchSecrets>;
  let alice: OSS;

  beforeAll(async () => {
    cloud = await startCloud();
    secrets = watchSecrets(cloud);
    alice = userClient(cloud, 'alice');
  });
  beforeEach(() => cloud.setConfig({}));
  afterAll(async () => {
    await cloud?.stop();
  });

  const onlyDecision = async (eventName: string, bucket: string): Promise<AuditRecord> => {
    const records = await decisionsFor(cloud, eventName, bucket);
    expect(records).toHaveLength(1);
    return records[0] as AuditRecord;
  };

  for (const c of CASES) {
    it(c.what, async () => {
      cloud.setConfig(c.config ?? {});
      await alice.putBucket(c.bucket);
      if (c.tags) await (alice as unknown as OssClient).putBucketTags(c.bucket, c.tags);
      await cloud.settle();
      c.arrange?.(cloud);

      await alice.putBucketACL(c.bucket, 'public-read');
      await cloud.settle();

      expect((await alice.getBucketACL(c.bucket)).acl).toBe(c.aclAfter);
      const record = await onlyDecision('PutBucketAcl', c.bucket);
      expect(record).toMatchObject({ decision: c.decision, ...c.record });
      const messages = cloud.dingtalk
        .messages()
        .map((m) => JSON.stringify(m.body))
        .filter((text) => text.includes(record.dedupeKey));
      expect(messages).toHaveLength(c.messages);
      if (c.says) expect(messages[0]).toContain(c.says);
    });
  }

  it('skips a change whose API call failed: OSS refused it, so nothing changed', async () => {
    await alice.putBucket('refused-acl');
    await publicAccessBlock(alice, 'refused-acl', 'PUT', true);
    await expect(alice.putBucketACL('refused-acl', 'public-read')).rejects.toMatchObject({
      code: 'AccessDenied',
    });
    await cloud.settle();

    expect((await alice.getBucketACL('refused-acl')).acl).toBe('private');
    expect(await onlyDecision('PutBucketAcl', 'refused-acl')).toMatchObject({
      decision: 'skipped',
      reason: expect.stringMatching(/API call failed \(AccessDenied\)/),
    });
  });

  it('skips a change to a bucket deleted before the function ran', async () => {
    cloud.bus.publish(
      ossChangeEvent(cloud, {
        actor: 'alice',
        operation: 'PutBucketAcl',
        bucket: 'deleted-meanwhile',
        headers: { 'x-oss-acl': 'public-read' },
      }),
    );
    await cloud.settle();

    expect(await onlyDecision('PutBucketAcl', 'deleted-meanwhile')).toMatchObject({
      decision: 'skipped',
      reason: 'bucket deleted-meanwhile no longer exists',
    });
  });

  it('hands what the blast-radius cap held back to a follow-up invocation, finishes it, and says once how many waited', async () => {
    cloud.setConfig({ maxRemediationsPerInvocation: 1 });
    const bucket = userClient(cloud, 'alice', 'capped');
    await alice.putBucket('capped');
    const keys = ['a.txt', 'b.txt', 'c.txt'];
    for (const key of keys) await bucket.put(key, Buffer.from(key));
    await cloud.settle();

    // With the log trigger paused the changes collect in the trail logstore and reach the object guard as
    // one range, one invocation.
    cloud.logTriggers.pause();
    for (const key of keys) await bucket.putACL(key, 'public-read');
    cloud.logTriggers.resume();
    await cloud.settle();

    const invocations = cloud.logTriggers.deliveries().filter((d) => d.functionName === 'trail-guard');
    expect(invocations.every((d) => d.ok)).toBe(true);
    const records = await decisionsFor(cloud, 'PutObjectAcl', 'capped');
    expect(records.map((r) => r.decision)).toEqual(['remediated', 'remediated', 'remediated']);
    const acls = await Promise.all(keys.map(async (key) => (await bucket.getACL(key)).acl));
    expect(acls).toEqual(['private', 'private', 'private']);
    const summaries = (await auditRecords(cloud)).filter((r) => r.eventName === 'BlastRadiusCap');
    expect(summaries).toEqual([
      expect.objectContaining({
        decision: 'alerted',
        reason: expect.stringMatching(
          /^blast-radius cap of 1 remediations per invocation reached: 2 change\(s\) waited/,
        ),
      }),
    ]);
    const mailed = cloud.smtp.messages().filter((m) => (m.mail.text ?? '').includes('2 change(s) waited'));
    expect(mailed).toHaveLength(1);
  });

  it('says once how many waited when EventBridge redelivers the same capped batch', async () => {
    cloud.setConfig({ maxRemediationsPerInvocation: 1 });
    const buckets = ['redelivered-a', 'redelivered-b', 'redelivered-c'];
    for (const bucket of buckets) await alice.putBucket(bucket);
    await cloud.settle();
    for (const bucket of buckets) await cloud.unobserved(() => alice.putBucketACL(bucket, 'public-read'));
    // One batch of CloudEvents, sent again with the same ids after each failed invocation, as EventBridge
    // redelivers (F-EVENTBRIDGE-RETRY-POLICY, F-EVENTBRIDGE-DEDUPE).
    const batch = JSON.stringify(
      buckets.map((bucket) =>
        ossChangeEvent(cloud, {
          actor: 'alice',
          operation: 'PutBucketAcl',
          bucket,
          headers: { 'x-oss-acl': 'public-read' },
        }),
      ),
    );
    const waitedMails = () =>
      cloud.smtp.messages().filter((m) => /change\(s\) waited/.test(m.mail.text ?? ''));
    const before = waitedMails().length;
    const outcomes = [];
    for (let n = 0; n < 3; n++) outcomes.push((await cloud.bus.invoke('oss-acl-guard', batch)).ok);
    await cloud.settle();

    expect(outcomes).toEqual([false, false, true]);
    const acls = await Promise.all(buckets.map(async (bucket) => (await alice.getBucketACL(bucket)).acl));
    expect(acls).toEqual(['private', 'private', 'private']);
    expect(waitedMails().slice(before)).toHaveLength(1);
  });

  it('puts no secret of the function or the robot in logs, audit records, alerts or results', async () => {
    expect(await secrets.leaks()).toEqual([]);
  });
});
