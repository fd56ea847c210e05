import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Caller } from '../../local/identity';
import { EventParseError } from '../../shared/errors';
import { MAX_EVENT_BODY_BYTES, type ParsedItem, parseEvents } from '../../shared/events';
import { buildRecord, type CloudEvent, wrapCloudEvent } from '../../shared/events/actiontrail-event';
import { hostileJson, hostileText } from './hostile-strings';

/** Stands for every secret an event can carry; it must never come out of the parser. */
const SECRET = 'SECRET-7f3a9c-never-kept';

const caller: Caller = {
  kind: 'ram-user',
  accountId: '1234567890123456',
  principalId: '200000000000000001',
  userName: 'alice',
  accessKeyId: 'LTAI-alice',
  mfa: false,
};

function sample(): CloudEvent {
  return wrapCloudEvent(
    buildRecord({
      caller,
      eventName: 'PutBucketAcl',
      serviceName: 'Oss',
      eventSource: 'photos.oss-cn-hangzhou.aliyuncs.com',
      region: 'cn-hangzhou',
      requestId: 'REQ-1',
      sourceIp: '203.0.113.9',
      userAgent: 'aliyun-sdk-js/6.23.0',
      requestParameters: { bucketName: 'photos', 'x-oss-acl': 'public-read', AccessKeySecret: SECRET },
      responseElements: { AccessKey: { AccessKeyId: 'LTAI-new', AccessKeySecret: SECRET } },
      referencedResources: { 'ACS::OSS::Bucket': ['photos'] },
    }),
  );
}

/** Where an attacker (or a broken producer) can put other values than ActionTrail would. */
const PATHS = [
  'id',
  'source',
  'type',
  'time',
  'aliyunregionid',
  'data',
  'data.eventName',
  'data.eventId',
  'data.eventVersion',
  'data.eventSource',
  'data.acsRegion',
  'data.serviceName',
  'data.errorCode',
  'data.sourceIpAddress',
  'data.userAgent',
  'data.userIdentity',
  'data.userIdentity.type',
  'data.userIdentity.userName',
  'data.userIdentity.sessionContext',
  'data.requestParameters',
  'data.requestParameters.bucketName',
  'data.requestParameters.objectKey',
  'data.responseElements',
  'data.referencedResources',
  'data.resourceName',
  'data.resourceType',
] as const;

function withValue(event: CloudEvent, path: string, value: unknown): unknown {
  const copy = structuredClone(event) as unknown as Record<string, unknown>;
  const keys = path.split('.');
  let at: Record<string, unknown> = copy;
  for (const key of keys.slice(0, -1)) {
    if (typeof at[key] !== 'object' || at[key] === null) at[key] = {};
    at = at[key] as Record<string, unknown>;
  }
  at[keys.at(-1) as string] = value;
  return copy;
}

/** What every parse must give: one typed item per event, typed errors only, nothing secret, nothing polluted. */
function expectWellFormed(items: ParsedItem[]): void {
  expect(items.length).toBeGreaterThanOrEqual(1);
  for (const item of items) {
    expect(['change', 'ignored', 'invalid']).toContain(item.kind);
    if (item.kind === 'invalid') expect(item.error).toBeInstanceOf(EventParseError);
    if (item.kind === 'change') {
      const { record } = item;
      for (const field of [record.eventId, record.eventName, record.service, record.region, record.dedupeKey])
        expect(typeof field).toBe('string');
      // Resource ids are bounded only by the body limit; kept request parameters are capped.
      for (const value of Object.values(record.resources)) expect(typeof value).toBe('string');
      for (const value of Object.values(record.requestParameters)) {
        expect(typeof value).toBe('string');
        expect(value.length).toBeLessThanOrEqual(1_024);
      }
    }
  }
  expect(JSON.stringify(items)).not.toContain(SECRET);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
}

describe('the event parser under hostile input', () => {
  it('keeps the sample intact and drops its secrets', () => {
    const [item] = parseEvents(Buffer.from(JSON.stringify(sample())));
    expect(item).toMatchObject({
      kind: 'change',
      record: { eventName: 'PutBucketAcl', resources: { bucket: 'photos' } },
    });
    expectWellFormed([item as ParsedItem]);
  });

  it('never throws on any JSON value, as a value or as the bytes FC hands over', () => {
    fc.assert(
      fc.property(hostileJson, (body) => {
        expectWellFormed(parseEvents(body));
        expectWellFormed(parseEvents(Buffer.from(JSON.stringify(body) ?? 'null')));
      }),
      { numRuns: 300 },
    );
  });

  it('never throws on arbitrary bytes or text', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
          hostileText,
        ),
        (body) => {
          expectWellFormed(parseEvents(body));
        },
      ),
    );
  });

  it('turns a CloudEvent with hostile values in any field into a typed item, never a crash or a leak', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(...PATHS), hostileJson), { minLength: 1, maxLength: 4 }),
        (edits) => {
          const event = edits.reduce<unknown>(
            (e, [path, value]) => withValue(e as CloudEvent, path, value),
            sample(),
          );
          expectWellFormed(parseEvents(Buffer.from(JSON.stringify(event))));
          expectWellFormed(parseEvents([event, sample(), event]));
        },
      ),
      { numRuns: 500 },
    );
  });

  it.each([
    ['a body nested 100,000 arrays deep', '['.repeat(100_000) + ']'.repeat(100_000)],
    [
      'a prototype-polluting body',
      '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}',
    ],
    ['a batch of 5,000 empty objects', JSON.stringify(Array.from({ length: 5_000 }, () => ({})))],
    ['a body over the size limit', `"${'x'.repeat(MAX_EVENT_BODY_BYTES)}"`],
  ])('answers %s with typed items', (_case, body) => {
    expectWellFormed(parseEvents(Buffer.from(body)));
  });
});
