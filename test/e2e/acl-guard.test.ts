import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local/cloud';
import { auditRecords, decisionsFor, startCloud, userClient } from './local-cloud';

describe('oss-acl-guard through the router and the bundled function', () => {
  let cloud: LocalCloud;
  beforeAll(async () => {
    cloud = await startCloud();
  });
  afterAll(async () => {
    await cloud?.stop();
  });

  it('reverts a bucket a RAM user made public-read, audits it and alerts on DingTalk', async () => {
    const alice = userClient(cloud, 'alice');
    await alice.putBucket('photos');
    await cloud.bus.drain();
    await alice.putBucketACL('photos', 'public-read');
    await cloud.bus.drain();

    expect((await alice.getBucketACL('photos')).acl).toBe('private');
    const [record] = await decisionsFor(cloud, 'PutBucketAcl', 'photos');
    expect(record).toMatchObject({
      decision: 'remediated',
      before: { acl: 'public-read' },
      after: { acl: 'private' },
      actor: { type: 'ram-user', userName: 'alice' },
      rules: [{ ruleId: 'bucket-acl-public-read', mode: 'enforce' }],
    });
    const messages = cloud.dingtalk.messages().filter((m) => JSON.stringify(m).includes('photos'));
    expect(messages).toHaveLength(1);
  });

  it('skips the revert event it caused itself: exactly one revert per change', async () => {
    const reverts = (await auditRecords(cloud)).filter(
      (r) =>
        r.eventName === 'PutBucketAcl' && r.resource.bucket === 'photos' && r.actor.type === 'assumed-role',
    );
    expect(reverts).toHaveLength(1);
    expect(reverts[0]).toMatchObject({ decision: 'skipped', reason: expect.stringMatching(/own role/) });
  });
});
