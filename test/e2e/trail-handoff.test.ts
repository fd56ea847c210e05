import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalCloud } from '../../local/cloud';
import type { DeferredWork } from '../../shared/pipeline/deferred';
import { PIPELINE_PREFIX } from '../../shared/pipeline/remediated';
import { auditRecords, FAST_ROBOT_PER_MINUTE, userClient } from './local-cloud';

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
    cloud = await LocalCloud.start({
      stateDir: mkdtempSync(join(tmpdir(), 'ossguard-handoff-')),
      retryDelayMs: 50,
      dingtalkMessagesPerMinute: FAST_ROBOT_PER_MINUTE,
      // While `broken`, OSS cannot answer for STUCK's ACL: every attempt at the range meets it.
      intercept: ({ operation, bucket }) =>
        broken && operation === 'GetBucketAcl' && bucket === STUCK
          ? { status: 503, code: 'ServiceUnavailable', message: 'injected' }
          : undefined,
    });
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
