import type OSS from 'ali-oss';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local/cloud';
import type { FaultInjector } from '../../local/faults';
import { alertCopies, eventOf, recordsFor, startFaultyCloud } from './faulty-cloud';

/**
 * A bucket made public, fixed by its owner, made public again, back to back, while slow answers (a third of
 * all calls, 50-600 ms) shuffle the order in which two FC instances read and revert. Whatever the order, the
 * last public change must not survive, and every change is audited and alerted on at most once.
 */
describe('a bucket made public, fixed by its owner and made public again in quick succession', () => {
  let cloud: LocalCloud;
  let faults: FaultInjector;
  let alice: OSS;
  let owner: OSS;

  beforeAll(async () => {
    ({ cloud, faults } = await startFaultyCloud({
      maxInstances: 2,
      plan: {
        seed: 7,
        rates: { slow: 0.33 },
        slowMs: { min: 50, max: 600 },
        scope: (call) => call.bucket?.startsWith('flip-') ?? false,
      },
    }));
    alice = cloud.ossClient(cloud.identities.userWithKey('alice').key);
    owner = cloud.adminClient();
  });
  afterAll(async () => {
    await cloud?.stop();
  });

  it.each(Array.from({ length: 6 }, (_, round) => [round]))(
    'ends private with each change audited once (round %i)',
    async (round) => {
      const bucket = `flip-${round}`;
      await owner.putBucket(bucket);
      await cloud.settle();

      faults.enabled = true;
      const events = [
        eventOf(cloud, await alice.putBucketACL(bucket, 'public-read')),
        eventOf(cloud, await owner.putBucketACL(bucket, 'private')),
        eventOf(cloud, await alice.putBucketACL(bucket, 'public-read-write')),
      ];
      await cloud.settle();
      faults.enabled = false;
      // A slow revert still lands after the drain; the final state is what is left once it has.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, faults.busyUntil() - Date.now())));
      await cloud.settle();

      expect((await owner.getBucketACL(bucket)).acl).toBe('private');
      const decisions = events.map((event) => {
        const records = recordsFor(cloud, event);
        expect(records).toHaveLength(1);
        return records[0]?.decision;
      });
      // Each handler judges the live state it reads, so which change gets the revert depends on timing.
      expect(decisions).toContain('remediated');
      for (const decision of decisions) expect(['remediated', 'skipped']).toContain(decision);
      events.forEach((event, i) => {
        const sent = decisions[i] === 'remediated' ? 1 : 0;
        // The robot's budget is shared by every instance (README, "Alerts under load"): once the rounds have
        // used a minute's slots, the record says so and the email alone carries the alert.
        const budgetSpent = recordsFor(cloud, event)[0]?.alerts.some(
          (a) => a.channel === 'dingtalk' && !a.ok && /rate budget/.test(a.error ?? ''),
        );
        expect(alertCopies(cloud, event)).toEqual({ dingtalk: budgetSpent ? 0 : sent, email: sent });
      });
    },
  );
});
