import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EventParseError } from '../../shared/errors';
import { MAX_EVENT_BODY_BYTES, type ParsedItem, parseEvents } from '../../shared/events';

const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`../fixtures/events/${name}`, import.meta.url), 'utf8'));

const changeOf = (items: ParsedItem[]) => {
  expect(items).toHaveLength(1);
  const [item] = items;
  if (item?.kind !== 'change') throw new Error(`expected a change, got ${JSON.stringify(item)}`);
  return item.record;
};

const cloudEvent = (data: unknown, overrides: Record<string, unknown> = {}) => ({
  specversion: '1.0',
  id: 'evt-1',
  source: 'acs.oss',
  type: 'oss:ActionTrail:ApiCall',
  time: '2026-11-28T01:00:00Z',
  aliyunregionid: 'cn-hangzhou',
  aliyunaccountid: '1234567890123456',
  data,
  ...overrides,
});

describe('the account a change belongs to', () => {
  it("is the recipient's, not a cross-account caller's (recipientAccountId before userIdentity.accountId)", () => {
    const record = changeOf(
      parseEvents({
        eventId: 'x-1',
        eventName: 'PutBucketPolicy',
        eventVersion: '1',
        serviceName: 'Oss',
        acsRegion: 'cn-hangzhou',
        recipientAccountId: '1234567890123456',
        userIdentity: { type: 'ram-user', accountId: '1999999999999999', userName: 'partner' },
        referencedResources: { 'ACS::OSS::Bucket': ['b'] },
      }),
    );
    expect(record.accountId).toBe('1234567890123456');
    expect(record.actor.accountId).toBe('1999999999999999');
  });
});

describe('parsing the real ActionTrail samples', () => {
  it('reads the OSS PutBucket record: bucket from referencedResources, region, root actor', () => {
    const record = changeOf(
      parseEvents(Buffer.from(JSON.stringify(fixture('actiontrail-PutBucket-root-account.json')))),
    );
    expect(record).toMatchObject({
      eventName: 'PutBucket',
      service: 'Oss',
      region: 'cn-hangzhou',
      eventType: 'ApiCall',
      dedupeKey: '6110E64B004C4034363CDC5E',
      accountId: '189217171671****',
      resources: { bucket: 'test-123' },
      actor: { type: 'root-account', userName: 'root', sourceIp: 'Internal' },
      origin: 'record',
    });
  });

  it('reads the IMS CreateUser record: RAM user from the principal name, MFA flag as a boolean', () => {
    const record = changeOf(
      parseEvents(JSON.stringify(fixture('actiontrail-ims-CreateUser-root-account.json'))),
    );
    expect(record).toMatchObject({
      eventName: 'CreateUser',
      service: 'Ims',
      region: 'cn-shanghai',
      resources: { ramUser: 'Alice', ramUserPrincipalName: 'Alice@163205818484****.onaliyun.com' },
      actor: { type: 'root-account', mfaAuthenticated: false, userAgent: 'ram.console.alibabacloud.com' },
    });
  });

  it('reads the legacy RAM record whose eventVersion is a string and which has no acsRegion', () => {
    const items = parseEvents(JSON.stringify(fixture('actiontrail-ram-CreateGroup-legacy-2016.json')));
    // The 2016 format names no region at all: the parser must say so rather than invent one.
    expect(items[0]).toMatchObject({ kind: 'invalid' });
    const withRegion = {
      ...fixture('actiontrail-ram-CreateGroup-legacy-2016.json'),
      acsRegion: 'cn-shanghai',
    };
    const record = changeOf(parseEvents(withRegion));
    expect(record).toMatchObject({
      eventName: 'CreateGroup',
      service: 'Ram',
      accountId: '43274',
      actor: {
        type: 'ram-user',
        userName: 'Alice',
        accessKeyId: 'f6IzzFZMmzNwEI4d',
        sourceIp: '42.120.74.96',
      },
    });
  });

  it('reads the EventBridge DeleteDisk data record made by a system caller', () => {
    const record = changeOf(parseEvents(fixture('eventbridge-actiontrail-ApiCall-DeleteDisk-data.json')));
    expect(record).toMatchObject({
      eventName: 'DeleteDisk',
      service: 'Ecs',
      region: 'cn-hangzhou',
      actor: { type: 'system', userName: 'ecs.aliyuncs.com' },
      resources: {},
    });
  });

  it('rejects the generic EventBridge envelope sample, whose data is not an ActionTrail record', () => {
    const items = parseEvents(fixture('eventbridge-envelope-example-aliyuncvc.json'));
    expect(items).toHaveLength(1);
    expect(items[0]?.kind).toBe('invalid');
    if (items[0]?.kind === 'invalid') expect(items[0].error.message).toMatch(/eventName is missing/);
  });

  it('unwraps the real PutBucket record from a CloudEvent and keys it by the ActionTrail eventId, as every path does', () => {
    const record = changeOf(
      parseEvents(
        cloudEvent(fixture('actiontrail-PutBucket-root-account.json'), {
          type: 'oss:ActionTrail:ConsoleOperation',
        }),
      ),
    );
    expect(record).toMatchObject({
      dedupeKey: '6110E64B004C4034363CDC5E',
      eventId: '6110E64B004C4034363CDC5E',
      eventName: 'PutBucket',
      origin: 'cloudevent',
      envelope: { id: 'evt-1', source: 'acs.oss', type: 'oss:ActionTrail:ConsoleOperation' },
      resources: { bucket: 'test-123' },
    });
  });
});

describe('taking resources from every place records put them', () => {
  it.each([
    ['referencedResources', { referencedResources: { 'ACS::OSS::Bucket': ['b-ref'] } }, { bucket: 'b-ref' }],
    [
      'requestParameters',
      { requestParameters: { bucketName: 'b-param', objectKey: 'k/1.txt' } },
      { bucket: 'b-param', objectKey: 'k/1.txt' },
    ],
    [
      'the eventSource host',
      { eventSource: 'b-host.oss-cn-beijing-internal.aliyuncs.com' },
      { bucket: 'b-host' },
    ],
    [
      'resourceType/resourceName',
      { resourceType: 'ACS::OSS::Bucket;ACS::OSS::Object', resourceName: 'b-rn;b-rn/a.txt' },
      { bucket: 'b-rn', objectKey: 'a.txt' },
    ],
    [
      'an object reference without the bucket prefix',
      { referencedResources: { 'ACS::OSS::Bucket': ['b'], 'ACS::OSS::Object': ['x/y.png'] } },
      { bucket: 'b', objectKey: 'x/y.png' },
    ],
    [
      'a created AccessKey',
      {
        serviceName: 'Ram',
        requestParameters: { UserName: 'bob' },
        responseElements: { AccessKey: { AccessKeyId: 'LTAI1', AccessKeySecret: 's3cr3t' } },
      },
      { ramUser: 'bob', accessKeyId: 'LTAI1' },
    ],
  ])('finds them in %s', (_where, fields, expected) => {
    const record = changeOf(
      parseEvents({ eventId: 'e', eventName: 'X', serviceName: 'Oss', acsRegion: 'cn-hangzhou', ...fields }),
    );
    expect(record.resources).toEqual(expected);
  });

  it('takes the region and service from the eventSource host when the record omits them', () => {
    const record = changeOf(
      parseEvents({
        eventId: 'e',
        eventName: 'PutBucketAcl',
        eventSource: 'bkt.oss-ap-southeast-1.aliyuncs.com',
      }),
    );
    expect(record).toMatchObject({ service: 'Oss', region: 'ap-southeast-1', resources: { bucket: 'bkt' } });
  });

  it('never keeps an AccessKey secret or any request parameter outside the allowlist', () => {
    const record = changeOf(
      parseEvents({
        eventId: 'e',
        eventName: 'CreateAccessKey',
        serviceName: 'Ims',
        acsRegion: 'cn-shanghai',
        requestParameters: {
          UserPrincipalName: 'bob@1.onaliyun.com',
          Password: 'hunter2',
          AccessKeySecret: 'zzz',
        },
        responseElements: { AccessKey: { AccessKeyId: 'LTAI9', AccessKeySecret: 'super-secret-value' } },
      }),
    );
    expect(JSON.stringify(record)).not.toMatch(/super-secret-value|hunter2|zzz/);
    expect(record.requestParameters).toEqual({ UserPrincipalName: 'bob@1.onaliyun.com' });
  });
});

describe('accepting every shape that reaches a function', () => {
  const record = {
    eventId: 'r1',
    eventName: 'PutBucketAcl',
    serviceName: 'Oss',
    acsRegion: 'cn-hangzhou',
    eventVersion: 1,
  };

  it.each([
    ['a bare record (RawData schema)', record, ['r1']],
    ['a CloudEvent', cloudEvent(record), ['r1']],
    [
      'a batch of CloudEvents',
      [cloudEvent(record, { id: 'a' }), cloudEvent({ ...record, eventId: 'r2' }, { id: 'b' })],
      ['r1', 'r2'],
    ],
    [
      'a CloudEvent whose record has no eventId',
      cloudEvent({ ...record, eventId: undefined }),
      ['acs.oss/evt-1'],
    ],
    [
      'a LookupEvents page',
      { RequestId: 'x', NextToken: '', Events: [record, { ...record, eventId: 'r2' }] },
      ['r1', 'r2'],
    ],
    ['a CloudEvent whose data is a JSON string', cloudEvent(JSON.stringify(record)), ['r1']],
  ])('parses %s', (_shape, body, keys) => {
    const items = parseEvents(Buffer.from(JSON.stringify(body)));
    expect(items.map((i) => (i.kind === 'change' ? i.record.dedupeKey : i.kind))).toEqual(keys);
  });

  it('marks LookupEvents records with their origin', () => {
    const items = parseEvents({ Events: [record] });
    expect(items[0]).toMatchObject({ kind: 'change', record: { origin: 'lookup-events' } });
  });
});

describe('malformed input gives typed errors, per element', () => {
  const good = cloudEvent({
    eventId: 'g',
    eventName: 'PutBucketAcl',
    serviceName: 'Oss',
    acsRegion: 'cn-hangzhou',
  });

  it.each([
    ['not JSON', Buffer.from('{nope'), /not JSON/],
    ['an empty body', Buffer.from('  '), /empty/],
    ['JSON that is not an event', Buffer.from('{"hello":"world"}'), /eventName is missing/],
    ['a JSON scalar', Buffer.from('42'), /not a JSON object/],
    [
      'a CloudEvent without data',
      Buffer.from(JSON.stringify({ ...good, data: undefined })),
      /no ActionTrail record in data/,
    ],
    ['a CloudEvent without an id', Buffer.from(JSON.stringify({ ...good, id: undefined })), /lacks id/],
    [
      'an unknown eventVersion',
      Buffer.from(JSON.stringify({ eventId: 'x', eventName: 'A', eventVersion: 2 })),
      /eventVersion 2/,
    ],
    ['an empty batch', Buffer.from('[]'), /batch is empty/],
    [
      'a 5 MB body',
      Buffer.alloc(5 * 1024 * 1024, 0x20),
      new RegExp(`over the ${MAX_EVENT_BODY_BYTES}-byte limit`),
    ],
  ])('rejects %s with an EventParseError', (_case, body, message) => {
    const items = parseEvents(body);
    expect(items).toHaveLength(1);
    const [item] = items;
    expect(item?.kind).toBe('invalid');
    if (item?.kind === 'invalid') {
      expect(item.error).toBeInstanceOf(EventParseError);
      expect(item.error.message).toMatch(message);
    }
  });

  it('lets the good elements of a batch through when one element is bad', () => {
    const batch = [good, { specversion: '1.0', id: 'bad', source: 's', type: 't' }, { ...good, id: 'g2' }];
    const items = parseEvents(Buffer.from(JSON.stringify(batch)));
    expect(items.map((i) => i.kind)).toEqual(['change', 'invalid', 'change']);
    expect(items[1]).toMatchObject({ index: 1, error: { index: 1, context: { eventId: 'bad' } } });
  });

  it('reports unknown event names as ignored, not as errors', () => {
    const batch = [
      good,
      cloudEvent(
        { eventId: 'u', eventName: 'DeleteDisk', serviceName: 'Ecs', acsRegion: 'cn-hangzhou' },
        { id: 'u' },
      ),
    ];
    const items = parseEvents(batch, { accept: new Set(['PutBucketAcl']) });
    expect(items.map((i) => i.kind)).toEqual(['change', 'ignored']);
    expect(items[1]).toMatchObject({
      reason: 'event DeleteDisk is not handled by this function',
      eventName: 'DeleteDisk',
    });
  });
});
