import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalCloud, TRAIL_LOGSTORE, TRAIL_PROJECT } from '../../local/cloud';
import { positionOf } from '../../local/sls/store';
import { TRAIL_TOPIC } from '../../local/sls/trail';
import { isRecordKey } from '../../shared/audit/query';
import { type AuditRecord, DECISIONS } from '../../shared/audit/record';
import type { CloudEvent } from '../../shared/events/actiontrail-event';
import type { LogTriggerResult } from '../../shared/logtrigger/handler';
import type { DecisionSummary, InvocationResult } from '../../shared/pipeline/run';
import {
  GUARD_EVENTS,
  type Json,
  type PublishedFixture,
  publishedFixtures,
  sourceRow,
} from '../helpers/published';
import { startCloud } from './local-cloud';

/**
 * Every record Alibaba Cloud publishes (test/fixtures/published/SOURCES.md), end to end through each path of
 * the local cloud with the bundled functions: published on the EventBridge bus (whose s.yaml filters decide
 * who gets it), written to the trail logstore that trail-guard's log trigger reads, and invoked on each
 * guard inside a LookupEvents page as `ossguard replay` does. None may fail, on any path, unless SOURCES.md
 * marks it malformed. The records name real-world accounts, regions and buckets: the guards re-read live
 * state, find nothing, and say so.
 */

type Fixture = PublishedFixture;

const fixtures = publishedFixtures();

type GuardName = keyof typeof GUARD_EVENTS;
const GUARD_NAMES = Object.keys(GUARD_EVENTS) as GuardName[];
const LOOKUP_ORDER: GuardName[] = ['access-key-guard', 'oss-acl-guard', 'oss-policy-guard'];

const nameOf = (fixture: Fixture): string => String(fixture.record.eventName);
const eventIdOf = (fixture: Fixture): string => String(fixture.record.eventId);
const guardFor = (fixture: Fixture): GuardName | undefined =>
  GUARD_NAMES.find((guard) => GUARD_EVENTS[guard].has(nameOf(fixture)));

/** The published sign-ins: both say MFA was not checked (F-ACTIONTRAIL-CONSOLE-SIGNIN). */
const isSigninWithoutMfa = (fixture: Fixture): boolean => nameOf(fixture) === 'ConsoleSignin';

/** The decisions a handled record may end in; `failed` is never one of them. */
const DECIDED: readonly string[] = DECISIONS.filter((d) => d !== 'failed');

/**
 * A record in the envelope EventBridge puts round it: `<service>:ActionTrail:<eventType>`, like `wrapCloudEvent`
 * (F-EVENTBRIDGE-TYPE-FORMAT), with the bus's region for a legacy record that names none.
 */
function cloudEventOf(fixture: Fixture, region: string): CloudEvent {
  if (fixture.kind === 'cloudevent') return fixture.value as unknown as CloudEvent;
  const { record } = fixture;
  const service = String(record.serviceName).toLowerCase();
  const identity = (record.userIdentity ?? {}) as Json;
  const accountId = String(identity.accountId ?? record.recipientAccountId ?? '');
  return {
    specversion: '1.0',
    id: `published-${fixture.name}`,
    source: `acs.${service}`,
    type: `${service}:ActionTrail:${String(record.eventType ?? 'ApiCall')}`,
    subject: `acs:${service}:${String(record.acsRegion ?? region)}:${accountId}:${nameOf(fixture)}`,
    time: String(record.eventTime),
    datacontenttype: 'application/json',
    aliyunaccountid: accountId,
    aliyunregionid: String(record.acsRegion ?? region),
    aliyuneventbusname: 'default',
    aliyunpublishtime: new Date().toISOString(),
    data: record,
  } as unknown as CloudEvent;
}

/** The published trail log itself, or the record in the layout a trail writes (F-SLS-TRAIL-EVENT-FIELD). */
function trailGroupOf(fixture: Fixture) {
  if (fixture.kind === 'trail-log') {
    const { value } = fixture;
    return {
      time: Number(value.__time__),
      topic: String(value.__topic__),
      source: String(value.__source__),
      logs: [{ event: String(value.event) }],
    };
  }
  return {
    time: Math.floor(Date.now() / 1000),
    topic: TRAIL_TOPIC,
    source: '127.0.0.1',
    logs: [{ event: JSON.stringify(fixture.record) }],
  };
}

/** A LookupEvents page holding the record, as `ossguard replay` hands it to a guard. */
const lookupPageOf = (fixture: Fixture): string =>
  JSON.stringify({ RequestId: `published-${fixture.name}`, NextToken: '', Events: [fixture.record] });

/** Audit records under one prefix: each path writes under its own, so that no path finds another's. */
async function auditUnder(cloud: LocalCloud, prefix: string): Promise<AuditRecord[]> {
  const client = cloud.adminClient(cloud.auditBucket);
  const listed = await client.listV2({ prefix, 'max-keys': '1000' }, {});
  return Promise.all(
    (listed.objects ?? [])
      .filter((o) => isRecordKey(prefix, o.name))
      .map(async (o) => JSON.parse((await client.get(o.name)).content.toString()) as AuditRecord),
  );
}

/** Audit records of failures, but for those about records SOURCES.md marks malformed. */
const unexpectedFailures = (records: AuditRecord[]): AuditRecord[] =>
  records.filter(
    (r) => r.decision === 'failed' && !fixtures.some((f) => f.malformed && eventIdOf(f) === r.eventId),
  );

/** Where each path's audit records go. */
const PREFIX = {
  eventbridge: 'published/eventbridge/',
  trail: 'published/trail/',
  lookup: 'published/lookup/',
} as const;

/** Whether a record before this one (in file order) has the same ActionTrail event id: the same change again. */
const seenBefore = (fixture: Fixture): boolean =>
  fixtures.some((f) => f.name < fixture.name && eventIdOf(f) === eventIdOf(fixture) && !f.malformed);

/** What a guard that handles the record must decide about it: a real decision first, a duplicate after. */
function expectHandled(fixture: Fixture, decisions: DecisionSummary[], guard: GuardName): void {
  const about = decisions.filter((d) => d.eventId === eventIdOf(fixture));
  expect(about, `${guard} on ${fixture.name}`).toHaveLength(1);
  const [decision] = about;
  if (seenBefore(fixture)) {
    expect(decision?.decision).toBe('duplicate');
  } else {
    expect(DECIDED).toContain(decision?.decision);
    expect(decision?.eventName).toBe(nameOf(fixture));
  }
}

/**
 * A malformed record changes nothing and is audited as failed, saying why, by a guard that takes it (the
 * other guards may skip it, or find that record already written).
 */
function expectMalformed(fixture: Fixture, decisions: DecisionSummary[], mustFail = true): void {
  expect(decisions.length, fixture.name).toBeGreaterThan(0);
  for (const d of decisions) expect(['failed', 'duplicate', 'skipped']).toContain(d.decision);
  const failed = decisions.filter((d) => d.decision === 'failed');
  for (const d of failed) expect(d.reason).toMatch(/invalid event: .{8,}/);
  if (mustFail) expect(failed.length, `${fixture.name} audited as failed`).toBeGreaterThan(0);
}

describe('published ActionTrail records, end to end through every path of the local cloud', () => {
  let cloud: LocalCloud;

  beforeAll(async () => {
    cloud = await startCloud({ audit: { prefix: PREFIX.eventbridge } });
  }, 60_000);

  afterAll(async () => {
    await cloud?.stop();
  });

  it('number at least 15, each with its source in SOURCES.md, and include one that a guard handles', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(15);
    for (const fixture of fixtures) {
      expect(sourceRow(fixture.name), fixture.name).toMatch(/https?:\/\/|AlibabaCloudDocs|as above/);
    }
    expect(fixtures.some((f) => guardFor(f) !== undefined)).toBe(true);
    expect(fixtures.some((f) => guardFor(f) === undefined)).toBe(true);
  });

  describe('published on the EventBridge bus, whose s.yaml filters pick the guards', () => {
    it.each(fixtures.map((f) => [f.name, f] as const))(
      '%s reaches only the guard whose filter selects it, and no delivery fails',
      async (_name, fixture) => {
        const event = cloudEventOf(fixture, cloud.region);
        cloud.bus.publish(event);
        await cloud.settle();

        const deliveries = cloud.bus.deliveries().filter((d) => d.eventId === event.id);
        const guard = guardFor(fixture);
        if (guard === undefined) {
          // No guard's filter selects an event no guard handles: it is simply not delivered.
          expect(deliveries).toEqual([]);
          return;
        }
        expect(deliveries.map((d) => [d.functionName, d.ok, d.error?.message])).toEqual([
          [guard, true, undefined],
        ]);
        const { decisions, retryableFailures } = (deliveries[0]?.result ?? {}) as InvocationResult;
        expect(retryableFailures).toEqual([]);
        if (fixture.malformed) expectMalformed(fixture, decisions);
        else expectHandled(fixture, decisions, guard);
      },
    );

    it('leaves no dead letter, and judges the published PutBucket of test-123 skipped: the bucket is gone', async () => {
      expect(cloud.bus.deadLetters()).toEqual([]);
      const records = await auditUnder(cloud, PREFIX.eventbridge);
      const putBucket = records.filter((r) => r.eventName === 'PutBucket');
      expect(putBucket.map((r) => [r.guard, r.decision, r.resource.bucket])).toEqual([
        ['oss-acl-guard', 'skipped', 'test-123'],
      ]);
      expect(putBucket[0]?.reason).toMatch(/test-123.*no longer exists/);
      expect(putBucket[0]?.region).toBe('cn-hangzhou');
      expect(unexpectedFailures(records)).toEqual([]);
    });
  });

  describe('written to the trail logstore, which trail-guard reads through its log trigger', () => {
    beforeAll(async () => {
      await cloud.settle();
      cloud.setConfig({ audit: { prefix: PREFIX.trail } });
    });

    it.each(fixtures.map((f) => [f.name, f] as const))(
      '%s is judged by its guard or counted as ignored, and no invocation fails',
      async (_name, fixture) => {
        const at = cloud.sls.store.append(TRAIL_PROJECT, TRAIL_LOGSTORE, trailGroupOf(fixture));
        await cloud.settle();

        // The invocations whose range holds this log group: the first, and any retry of the same range.
        const covering = cloud.logTriggers.deliveries().filter((d) => {
          const { shardId, beginCursor, endCursor } = d.event.source;
          const begin = positionOf(beginCursor) ?? Number.NaN;
          const end = positionOf(endCursor) ?? Number.NaN;
          return shardId === at.shardId && begin <= at.position && at.position < end;
        });
        expect(
          covering.map((d) => [d.functionName, d.ok, d.error?.message]),
          fixture.name,
        ).toEqual([['trail-guard', true, undefined]]);
        const result = covering[0]?.result as LogTriggerResult;
        // The range is this log group alone: everything before it was settled.
        expect(result.logs).toBe(1);
        expect(result.retryableFailures).toEqual([]);
        const guard = guardFor(fixture);
        if (fixture.malformed) {
          expectMalformed(fixture, result.decisions);
        } else if (isSigninWithoutMfa(fixture)) {
          // No guard handles sign-ins by name; key-usage-guard reads every one from the trail, and both
          // published samples say MFA was not checked.
          expect([result.ignored, result.malformed]).toEqual([1, 0]);
          expect(result.decisions.map((d) => [d.eventId, d.decision, d.rules])).toEqual([
            [
              eventIdOf(fixture),
              seenBefore(fixture) ? 'duplicate' : 'alerted',
              seenBefore(fixture) ? [] : ['console-signin-without-mfa'],
            ],
          ]);
        } else if (guard === undefined) {
          expect([result.ignored, result.malformed, result.decisions]).toEqual([1, 0, []]);
        } else {
          expect([result.ignored, result.malformed]).toEqual([0, 0]);
          expectHandled(fixture, result.decisions, guard);
        }
      },
    );

    it('leaves no dead-lettered range, and judges the published PutBucket skipped again on this path', async () => {
      expect(cloud.logTriggers.deadLetters()).toEqual([]);
      const records = await auditUnder(cloud, PREFIX.trail);
      const putBucket = records.filter((r) => r.eventName === 'PutBucket');
      expect(putBucket.map((r) => [r.guard, r.decision, r.resource.bucket])).toEqual([
        ['oss-acl-guard', 'skipped', 'test-123'],
      ]);
      expect(putBucket[0]?.reason).toMatch(/no longer exists/);
      expect(unexpectedFailures(records)).toEqual([]);
    });
  });

  describe('in a LookupEvents page invoked on each guard, as ossguard replay does', () => {
    beforeAll(async () => {
      await cloud.settle();
      cloud.setConfig({ audit: { prefix: PREFIX.lookup } });
    });

    it.each(fixtures.map((f) => [f.name, f] as const))(
      '%s is judged by the guard that handles it and skipped by the others, and no invocation fails',
      async (_name, fixture) => {
        const handler = guardFor(fixture);
        // A fixed order, not the handling guard first: the `skipped` of a guard that does not handle the
        // event must not stand in for the decision of the one that does.
        const all: DecisionSummary[] = [];
        for (const guard of LOOKUP_ORDER) {
          const outcome = await cloud.bus.invoke(guard, lookupPageOf(fixture));
          if (!outcome.ok) throw new Error(`${guard} failed on ${fixture.name}: ${outcome.error.message}`);
          const { decisions, retryableFailures } = outcome.result as InvocationResult;
          expect(retryableFailures).toEqual([]);
          all.push(...decisions);
          if (fixture.malformed) {
            expectMalformed(fixture, decisions, false);
          } else if (guard === handler) {
            expectHandled(fixture, decisions, guard);
          } else {
            // Not this guard's event: audited as skipped by this guard (a duplicate when another fixture
            // holds the same published record and was handed to it first).
            expect(decisions, `${guard} on ${fixture.name}`).toHaveLength(1);
            const [decision] = decisions;
            if (decision?.decision !== 'duplicate') {
              expect(decision?.decision).toBe('skipped');
              expect(decision?.reason).toMatch(/is not handled by this function/);
            }
          }
        }
        if (fixture.malformed) expect(all.some((d) => d.decision === 'failed')).toBe(true);
        await cloud.settle();
      },
    );

    it('audits no failure, and judges the published PutBucket skipped again on this path', async () => {
      const records = await auditUnder(cloud, PREFIX.lookup);
      expect(unexpectedFailures(records)).toEqual([]);
      const putBucket = records.filter((r) => r.eventName === 'PutBucket' && r.guard === 'oss-acl-guard');
      expect(putBucket.map((r) => [r.decision, r.resource.bucket])).toEqual([['skipped', 'test-123']]);
      expect(putBucket[0]?.reason).toMatch(/no longer exists/);
      // Every record no guard handles was audited as skipped by each guard it was handed to, under a key of
      // that guard's own, so that no guard's `skipped` stands in for another's decision.
      for (const fixture of fixtures.filter((f) => guardFor(f) === undefined && !f.malformed)) {
        const about = records.filter((r) => r.eventId === eventIdOf(fixture));
        expect(about.map((r) => [r.guard, r.decision]).sort(), fixture.name).toEqual(
          LOOKUP_ORDER.map((guard) => [guard, 'skipped']).sort(),
        );
      }
    });
  });

  it('never lets a function fail on any path, and sends no alert about records that changed nothing here', () => {
    // The bus delivered exactly the records a guard handles, once each, and nothing else it was given.
    const published = new Set(fixtures.map((f) => cloudEventOf(f, cloud.region).id));
    expect(cloud.bus.deliveries().filter((d) => published.has(d.eventId))).toHaveLength(
      fixtures.filter((f) => guardFor(f) !== undefined).length,
    );
    expect(cloud.bus.deliveries().filter((d) => !d.ok)).toEqual([]);
    expect(cloud.logTriggers.deliveries().filter((d) => !d.ok)).toEqual([]);
    // The only alerts: the sign-ins without MFA the trail path read, one per distinct record.
    const signins = new Set(fixtures.filter(isSigninWithoutMfa).map(eventIdOf));
    expect(cloud.dingtalk.messages()).toHaveLength(signins.size);
    for (const message of cloud.dingtalk.messages())
      expect(JSON.stringify(message.body)).toContain('without MFA');
  });
});
