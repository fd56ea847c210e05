import { describe, expect, it } from 'vitest';
import { parseEvents } from '../../shared/events/parse-actiontrail-events';
import { recordFromTrailLog, type TrailLog } from '../../shared/events/trail-log';
import type { ParsedItem } from '../../shared/events/types';
import { GUARD_EVENTS, type Json, type PublishedFixture, publishedFixtures } from '../helpers/published';

/**
 * Records as Alibaba Cloud publishes them (test/fixtures/published/SOURCES.md) through every parsing path:
 * EventBridge (a CloudEvent, F-EVENTBRIDGE-CLOUDEVENT-ENVELOPE), LookupEvents (`{Events: [...]}`,
 * F-ACTIONTRAIL-LOOKUP-API) and the trail logstore (F-SLS-TRAIL-TOPIC, F-SLS-TRAIL-EVENT-FIELD). Each must end
 * as a change when a guard handles it and as ignored when none does, never as invalid: the legacy records
 * without acsRegion (F-ACTIONTRAIL-LEGACY-RECORD) and the sign-in records (F-ACTIONTRAIL-CONSOLE-SIGNIN) included.
 */

type Fixture = PublishedFixture;

const fixtures = publishedFixtures();

/** Every event name some guard handles, as the functions pass it to `parseEvents`. */
const HANDLED: ReadonlySet<string> = new Set(Object.values(GUARD_EVENTS).flatMap((events) => [...events]));

/** A bare record in the envelope EventBridge puts round it, like the published one (F-EVENTBRIDGE-TYPE-FORMAT). */
function cloudEventOf(record: Json): Json {
  const service = String(record.serviceName ?? 'actiontrail').toLowerCase();
  return {
    id: `published-${String(record.eventId)}`,
    source: `acs.${service}`,
    specversion: '1.0',
    type: `${service}:ActionTrail:ApiCall`,
    time: record.eventTime,
    aliyunaccountid: '123456789098****',
    aliyunpublishtime: record.eventTime,
    aliyuneventbusname: 'default',
    aliyunregionid: 'cn-hangzhou',
    datacontenttype: 'application/json',
    data: record,
  };
}

/** The record as a trail writes it to its logstore. */
const trailLogOf = (record: Json): TrailLog => ({
  __topic__: 'actiontrail_audit_event',
  event: JSON.stringify(record),
});

function outcome(items: ParsedItem[]): string {
  expect(items).toHaveLength(1);
  const [item] = items;
  if (item?.kind === 'invalid') return `invalid: ${item.error.message}`;
  return item?.kind ?? 'nothing';
}

const expected = (fixture: Fixture): string =>
  HANDLED.has(String(fixture.record.eventName)) ? 'change' : 'ignored';

describe('published ActionTrail records', () => {
  it('number at least 18, of every kind', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(18);
    const kinds = new Set(fixtures.map((f) => f.kind));
    expect([...kinds].sort()).toEqual(['cloudevent', 'record', 'trail-log']);
  });

  it('include one that a guard handles, and the legacy ones without acsRegion', () => {
    expect(fixtures.some((f) => expected(f) === 'change')).toBe(true);
    expect(fixtures.some((f) => f.record.acsRegion === undefined)).toBe(true);
  });

  describe.each(fixtures.map((f) => [f.name, f] as const))('%s', (_name, fixture) => {
    it('parses as the EventBridge event it is, or is wrapped in one', () => {
      const event = fixture.kind === 'cloudevent' ? fixture.value : cloudEventOf(fixture.record);
      expect(outcome(parseEvents(JSON.stringify(event), { accept: HANDLED }))).toBe(expected(fixture));
    });

    it('parses inside a LookupEvents page', () => {
      const page = { RequestId: 'published', NextToken: '', Events: [fixture.record] };
      expect(outcome(parseEvents(JSON.stringify(page), { accept: HANDLED }))).toBe(expected(fixture));
    });

    it('parses from a trail log in the documented layout', () => {
      const log = fixture.kind === 'trail-log' ? (fixture.value as TrailLog) : trailLogOf(fixture.record);
      const record = recordFromTrailLog(log);
      expect(record).toEqual(fixture.record);
      expect(outcome(parseEvents(record, { accept: HANDLED }))).toBe(expected(fixture));
    });

    it('parses as a change, in its envelope, for a function that takes every event', () => {
      // The envelope's aliyunregionid stands in for the acsRegion a legacy record lacks.
      const items = parseEvents(JSON.stringify(cloudEventOf(fixture.record)));
      expect(outcome(items)).toBe('change');
      const [item] = items;
      if (item?.kind === 'change') {
        expect(item.record.eventName).toBe(fixture.record.eventName);
        expect(item.record.eventId).toBe(fixture.record.eventId);
      }
    });
  });

  it('gives the handled PutBucket its bucket and region from the record itself', () => {
    const putBucket = fixtures.find((f) => f.name === 'oss-PutBucket-root-console.json');
    expect(putBucket).toBeDefined();
    const page = { Events: [putBucket?.record] };
    const [item] = parseEvents(JSON.stringify(page), { accept: HANDLED });
    expect(item?.kind).toBe('change');
    if (item?.kind === 'change') {
      expect(item.record.resources.bucket).toBe('test-123');
      expect(item.record.region).toBe('cn-hangzhou');
      expect(item.record.actor.type).toBe('root-account');
    }
  });
});
