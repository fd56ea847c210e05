import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalCloud } from '../../local/cloud';
import { auditRecords, userClient } from './local-cloud';

const STUCK = 'range-stuck';

/** #19 class 12: a log range trail-guard cannot finish hands its unfinished changes on instead of losing them. */
describe('trail-guard hands on what a range cannot finish', () => {
  let cloud: LocalCloud;
  let broken = false;

  beforeAll(async () => {
    cloud = await LocalCloud.start({
      stateDir: mkdtempSync(join(tmpdir(), 'ossguard-handoff-')),
      retryDelayMs: 50,
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
    // wait (growing with each failed drain) is over.
    for (let n = 0; n < 30 && (await alice.getBucketACL(STUCK)).acl !== 'private'; n++) {
      await new Promise((resolve) => setTimeout(resolve, 2_000));
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
});
