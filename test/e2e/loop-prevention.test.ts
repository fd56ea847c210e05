import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local/cloud';
import { newRequestId } from '../../local/identity';
import { ossRecord } from '../../local/oss/trail';
import { onRecipientBus, withRecipient } from '../../local/recipient';
import { ROLE_NAME } from '../../shared/deployment/names';
import { wrapCloudEvent } from '../../shared/events/actiontrail-event';
import { auditRecords, startCloud, userClient } from './local-cloud';

/** #19 class 4: only ossguard's own role, in its own account, is exempt from judgement. */
describe('loop prevention exempts only ossguard’s own role ARN', () => {
  let cloud: LocalCloud;

  beforeAll(async () => {
    cloud = await startCloud();
  });
  afterAll(async () => {
    await cloud?.stop();
  });

  const recordsOf = async (eventId: string) =>
    (await auditRecords(cloud)).filter((r) => r.eventId === eventId && r.guard === 'oss-acl-guard');

  it('reverts a bucket made public by a role whose name spells ossguard’s in other letter case', async () => {
    const alice = userClient(cloud, 'alice');
    await alice.putBucket('spelled-like-ossguard');
    await cloud.settle();
    // A role a RAM admin created in the same account; whether RAM would refuse it as a duplicate name is
    // unverified (F-RAM-ROLE-NAME-CASE), so ossguard must not exempt it either way.
    const session = cloud.identities.assumeRole(ROLE_NAME.toUpperCase(), 'attacker');
    const impostor = cloud.ossClient(session, 'spelled-like-ossguard');
    await impostor.putBucketACL('spelled-like-ossguard', 'public-read');
    await cloud.settle();

    expect((await alice.getBucketACL('spelled-like-ossguard')).acl).toBe('private');
    const records = (await auditRecords(cloud)).filter(
      (r) =>
        r.eventName === 'PutBucketAcl' &&
        r.resource.bucket === 'spelled-like-ossguard' &&
        r.actor.userName?.startsWith(`${ROLE_NAME.toUpperCase()}:`),
    );
    expect(records).toEqual([expect.objectContaining({ decision: 'remediated' })]);
  });

  it('judges a change made by a role of ossguard’s name in another account', async () => {
    const alice = userClient(cloud, 'alice');
    await alice.putBucket('shared-with-partner');
    await cloud.settle();
    // The partner's change is what reaches the function; alice's own event is held back (paused bus, trail
    // suspended) so that only the partner's record can lead to the revert.
    const restartTrail = cloud.trails.suspendLogging();
    cloud.bus.pause();
    try {
      await alice.putBucketACL('shared-with-partner', 'public-read');
      const record = ossRecord({
        operation: 'PutBucketAcl',
        caller: {
          kind: 'assumed-role',
          accountId: '9876543210987654',
          principalId: '300000000000000001:ossguard-fn',
          userName: `${ROLE_NAME}:${ROLE_NAME}`,
          accessKeyId: 'STS.PARTNER0000000000',
          mfa: false,
        },
        request: {
          method: 'PUT',
          bucket: 'shared-with-partner',
          query: [],
          headers: { 'x-oss-acl': 'public-read' },
          body: Buffer.alloc(0),
          sourceIp: '198.51.100.7',
          userAgent: 'aliyun-sdk-js/6.23.0',
        },
        region: cloud.region,
        requestId: newRequestId(),
      });
      // The record belongs to the bucket's account, A, as a real one would say (F-ORG-TRAIL-RECIPIENT).
      const event = onRecipientBus(wrapCloudEvent(withRecipient(record, cloud.identities.accountId)));
      const result = await cloud.bus.invoke('oss-acl-guard', JSON.stringify(event));
      expect(result.ok).toBe(true);

      expect((await alice.getBucketACL('shared-with-partner')).acl).toBe('private');
      expect(await recordsOf(event.data.eventId)).toEqual([
        expect.objectContaining({
          decision: 'remediated',
          actor: expect.objectContaining({ accountId: '9876543210987654' }),
        }),
      ]);
    } finally {
      cloud.bus.resume();
      restartTrail();
    }
  });

  it('still skips the reverts ossguard’s own role makes in its own account', async () => {
    const records = (await auditRecords(cloud)).filter(
      (r) =>
        r.actor.userName?.startsWith(`${ROLE_NAME}:`) && r.actor.accountId === cloud.identities.accountId,
    );
    expect(records.length).toBeGreaterThan(0);
    for (const r of records) expect(r.reason).toMatch(/own role .*\(loop prevention\)/);
  });
});
