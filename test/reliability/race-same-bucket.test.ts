import type OSS from 'ali-oss';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local/cloud';
import type { FaultInjector } from '../../local/faults';
import type { CloudEvent } from '../../shared/events/actiontrail-event';
import { alertCopies, eventOf, recordsFor, startFaultyCloud } from './faulty-cloud';

/**
 * Two events for one bucket in flight at once: on two FC instances, in one EventBridge batch, and the same
 * event delivered twice (EventBridge delivers at least once). Reads of the bucket's ACL are slowed so the
 * handlers overlap rather than run one after the other.
 */
describe('two events for the same bucket handled at once', () => {
  let cloud: LocalCloud;
  let faults: FaultInjector;
  let alice: OSS;

  beforeAll(async () => {
    ({ cloud, faults } = await startFaultyCloud({
      maxInstances: 2,
      plan: { slowMs: { min: 1_000, max: 1_000 } },
    }));
    alice = cloud.ossClient(cloud.identities.userWithKey('alice').key);
    faults.outage('slow ACL reads', (call) => call.operation === 'GetBucketAcl', 'slow');
  });
  afterAll(async () => {
    await cloud?.stop();
  });

  /** Changes to a new bucket, published while the bus is paused so the test decides how they arrive. */
  async function changes(
    bucket: string,
    ...acls: Array<'public-read' | 'public-read-write'>
  ): Promise<CloudEvent[]> {
    await alice.putBucket(bucket);
    await cloud.settle();
    const watch = cloud.stopWatching();
    try {
      const events: CloudEvent[] = [];
      for (const acl of acls) events.push(eventOf(cloud, await alice.putBucketACL(bucket, acl)));
      return events;
    } finally {
      watch();
    }
  }

  const invoke = (payload: unknown) => cloud.bus.invoke('oss-acl-guard', JSON.stringify(payload));

  /** Each change audited once, the bucket private, and an alert per change that was reverted, sent once. */
  async function expectSettled(bucket: string, events: CloudEvent[]): Promise<void> {
    await cloud.settle();
    expect((await alice.getBucketACL(bucket)).acl).toBe('private');
    const records = events.map((event) => recordsFor(cloud, event));
    expect(records.map((r) => r.length)).toEqual(events.map(() => 1));
    const decisions = records.map((r) => r[0]?.decision);
    expect(decisions).toContain('remediated');
    for (const decision of decisions) expect(['remediated', 'skipped']).toContain(decision);
    events.forEach((event, i) => {
      const sent = decisions[i] === 'remediated' ? 1 : 0;
      expect(alertCopies(cloud, event)).toEqual({ dingtalk: sent, email: sent });
    });
  }

  it('audits each change once and leaves the bucket private when two instances handle them together', async () => {
    const events = await changes('twin-instances', 'public-read', 'public-read-write');
    const lift = faults.outage('overlapping reads', (c) => c.operation === 'GetBucketAcl', {
      delayMs: 1_000,
    });
    const results = await Promise.all(events.map((event) => invoke(event)));
    lift();
    expect(results.map((r) => r.ok)).toEqual([true, true]);
    expect(cloud.fc.instancePids('oss-acl-guard')).toHaveLength(2);
    await expectSettled('twin-instances', events);
  });

  it('audits each change once and leaves the bucket private when both arrive in one batch', async () => {
    const events = await changes('twin-batch', 'public-read', 'public-read-write');
    const lift = faults.outage('overlapping reads', (c) => c.operation === 'GetBucketAcl', {
      delayMs: 1_000,
    });
    expect((await invoke(events)).ok).toBe(true);
    lift();
    await expectSettled('twin-batch', events);
  });

  it('writes one record and alerts once per channel when the same event reaches two instances at once', async () => {
    // EventBridge delivers at least once, so a copy of an event can run next to the original.
    const [event] = await changes('twin-duplicate', 'public-read');
    if (!event) throw new Error('no event');
    const lift = faults.outage('overlapping reads', (c) => c.operation === 'GetBucketAcl', {
      delayMs: 1_000,
    });
    const results = await Promise.all([invoke(event), invoke(event)]);
    lift();
    // The copy that read the bucket after the other's revert finishes the record from the other's intent;
    // one that read it public too reverts again, loses the intent race, leaves the alert and the record to
    // the other and fails, so that EventBridge brings it again (as the extra invoke below does).
    for (const held of results.filter((r) => !r.ok))
      expect(JSON.stringify(held.error)).toContain('another delivery of this event holds its intent record');
    expect((await invoke(event)).ok).toBe(true);
    await cloud.settle();

    expect((await alice.getBucketACL('twin-duplicate')).acl).toBe('private');
    const records = recordsFor(cloud, event);
    expect(records).toEqual([
      expect.objectContaining({ decision: 'remediated', before: { acl: 'public-read' } }),
    ]);
    expect(alertCopies(cloud, event)).toEqual({ dingtalk: 1, email: 1 });
  });
});
