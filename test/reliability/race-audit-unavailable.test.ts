import type OSS from 'ali-oss';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local/cloud';
import type { FaultCall, FaultInjector } from '../../local/faults';
import type { CloudEvent } from '../../shared/events/actiontrail-event';
import { alertCopies, eventOf, onAuditBucket, recordsFor, startFaultyCloud, until } from './faulty-cloud';

describe('the audit bucket briefly unavailable', () => {
  let cloud: LocalCloud;
  let faults: FaultInjector;
  let alice: OSS;

  beforeAll(async () => {
    ({ cloud, faults } = await startFaultyCloud());
    // EventBridge's redelivery alone: the trail stopped. With the audit bucket refusing writes there is
    // nowhere to coordinate, so two paths delivering one change at the same instant could each alert once
    // (README, "Reliability"); the trail's own delay (about a minute, F-ACTIONTRAIL-DELIVERY-DELAY) keeps
    // them apart in practice.
    cloud.trails.suspendLogging();
    alice = cloud.ossClient(cloud.identities.userWithKey('alice').key);
  });
  afterAll(async () => {
    await cloud?.stop();
  });

  /** A bucket alice makes public while `outage` fails calls on the audit bucket; returns its event. */
  async function publicWhile(bucket: string, outage: (call: FaultCall) => boolean) {
    await alice.putBucket(bucket);
    await cloud.settle();
    const lift = faults.outage(`audit bucket down for ${bucket}`, outage);
    const event = eventOf(cloud, await alice.putBucketACL(bucket, 'public-read'));
    return { event, lift };
  }

  const attemptsOf = (eventId: string) =>
    cloud.bus
      .deliveries()
      .filter((d) => d.eventId === eventId)
      .map((d) => d.ok);

  it('fails the invocation while the existence check cannot reach the bucket, then reverts, audits and alerts once', async () => {
    const { event, lift } = await publicWhile('brief-outage', onAuditBucket(cloud));
    await until(() => attemptsOf(event.id).includes(false));
    lift();
    await cloud.settle();

    expect(attemptsOf(event.id)).toEqual([false, true]);
    const records = recordsFor(cloud, event);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ decision: 'remediated', after: { acl: 'private' } });
    expect(alertCopies(cloud, event)).toEqual({ dingtalk: 1, email: 1 });
    expect((await alice.getBucketACL('brief-outage')).acl).toBe('private');
  });

  interface Settled {
    records: ReturnType<typeof recordsFor>;
  }

  /**
   * A bucket made public while `outage` fails writes to the audit bucket; the outage lifts after the first
   * attempt fails, and the redelivery settles it: one record, one alert per channel. `more` adds the cases.
   */
  function describeWriteOutage(
    title: string,
    bucket: string,
    outage: (cloud: LocalCloud) => (call: FaultCall) => boolean,
    more: (settled: Settled) => void,
  ) {
    describe(title, () => {
      const settled: Settled = { records: [] };
      let event: CloudEvent;
      beforeAll(async () => {
        const started = await publicWhile(bucket, outage(cloud));
        event = started.event;
        await until(() => attemptsOf(event.id).includes(false));
        started.lift();
        await cloud.settle();
        settled.records = recordsFor(cloud, event);
      });

      it('redelivers the event and ends with exactly one audit record and one alert per channel', async () => {
        expect(attemptsOf(event.id)).toEqual([false, true]);
        expect(settled.records).toHaveLength(1);
        expect(alertCopies(cloud, event)).toEqual({ dingtalk: 1, email: 1 });
        expect((await alice.getBucketACL(bucket)).acl).toBe('private');
      });
      more(settled);
    });
  }

  describeWriteOutage(
    'when every write to the audit bucket fails, after the revert and the alert',
    'write-outage',
    (c) => onAuditBucket(c, 'PutObject'),
    (settled) => {
      // The intent was refused too: the instance held the record and wrote it when the bucket returned.
      it('keeps the revert in the audit record, as remediated with its before and after, written when the bucket returns', () => {
        expect(settled.records[0]).toMatchObject({
          decision: 'remediated',
          before: { acl: 'public-read' },
          after: { acl: 'private' },
        });
      });
    },
  );

  describeWriteOutage(
    'when only the audit record write fails, after the revert and the alert',
    'record-outage',
    (c) => (call) => onAuditBucket(c, 'PutObject')(call) && !call.key?.startsWith('ossguard/audit/intents/'),
    (settled) => {
      // The instance that acted held its record and wrote it first when the redelivery came; a redelivery
      // reaching another instance would finish the record from the intent instead.
      it('keeps the revert in the audit record, as remediated with its before and after, the record the acting delivery made', () => {
        expect(settled.records[0]).toMatchObject({
          decision: 'remediated',
          before: { acl: 'public-read' },
          after: { acl: 'private' },
        });
        expect(settled.records[0]?.completedFrom).toBeUndefined();
      });
    },
  );

  it('dead-letters the event when the outage outlasts every redelivery, and a re-drive audits it once', async () => {
    const { event, lift } = await publicWhile('long-outage', onAuditBucket(cloud));
    await until(() => cloud.bus.deadLetters().some((d) => d.event.id === event.id));
    lift();

    const [letter] = cloud.bus.deadLetters().filter((d) => d.event.id === event.id);
    expect(letter).toMatchObject({ functionName: 'oss-acl-guard', attempts: 4 });
    expect(letter?.error.name).toBe('InvocationFailedError');
    expect(recordsFor(cloud, event)).toHaveLength(0);

    const redriven = await cloud.bus.invoke('oss-acl-guard', JSON.stringify(event));
    await cloud.settle();
    expect(redriven.ok).toBe(true);
    expect(recordsFor(cloud, event)).toEqual([expect.objectContaining({ decision: 'remediated' })]);
    expect(alertCopies(cloud, event)).toEqual({ dingtalk: 1, email: 1 });
  });
});
