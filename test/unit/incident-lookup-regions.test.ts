import { describe, expect, it } from 'vitest';
import { lookupEvents } from '../../local/actiontrail-api/lookup';
import type { EmittedRecord } from '../../shared/events/actiontrail-event';
import { lookupReader } from '../../shared/incident/trail';
import { type LookupEvents, PagedLookup } from '../../shared/replay/lookup';
import { CallPacer } from '../../shared/replay/pacer';

const KEY = 'LTAI5tLeaked000001';
const NOW = new Date('2026-12-06T12:00:00Z');

const record = (eventId: string, eventName: string, serviceName: string, acsRegion: string) =>
  ({
    eventId,
    eventName,
    serviceName,
    acsRegion,
    eventTime: '2026-12-06T10:00:00Z',
    eventRW: 'Write',
    eventType: 'ApiCall',
    isGlobal: serviceName !== 'Oss',
    sourceIpAddress: '203.0.113.9',
    userIdentity: { type: 'ram-user', userName: 'ci', accessKeyId: KEY },
    requestParameters: {},
    referencedResources: {},
  }) as unknown as EmittedRecord;

/** One region's event history, answered by the local LookupEvents over just those records. */
const region = (records: EmittedRecord[]): PagedLookup => {
  const lookup: LookupEvents = async (query) => {
    const params: Record<string, string> = {};
    for (const [name, value] of Object.entries(query))
      if (name !== 'LookupAttribute' && value !== undefined && value !== '') params[name] = String(value);
    (query.LookupAttribute as Array<{ Key: string; Value: string }>).forEach((a, i) => {
      params[`LookupAttribute.${i + 1}.Key`] = a.Key;
      params[`LookupAttribute.${i + 1}.Value`] = a.Value;
    });
    const page = lookupEvents(records, params, NOW);
    return { nextToken: page.NextToken, events: page.Events };
  };
  return new PagedLookup(lookup, { pacer: new CallPacer(1_000, 1_000) });
};

describe('the incident report without a logstore', () => {
  it('reads the RAM and IMS calls of the key from the global events region too, each call once', async () => {
    const acl = record('e-acl', 'PutBucketAcl', 'Oss', 'cn-hangzhou');
    const user = record('e-user', 'CreateUser', 'Ims', 'cn-shanghai');
    const key = record('e-key', 'CreateAccessKey', 'Ram', 'cn-shanghai');
    // Where the local region and the global events region overlap, the same event must count once.
    const reader = lookupReader(region([acl, key]), region([user, key]));

    const ids: string[] = [];
    for await (const page of reader.calls(KEY, new Date('2026-12-06T00:00:00Z'), NOW, () => undefined))
      ids.push(...page.calls.map((c) => c.eventId));

    expect(ids.sort()).toEqual(['e-acl', 'e-key', 'e-user']);
  });
});
