import OpenApi, { $OpenApiUtil, OpenApiUtil } from '@alicloud/openapi-core';
import { RuntimeOptions } from '@darabonba/typescript';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ActionTrailEmulator, type ActionTrailEmulatorOptions } from '../../local/actiontrail-api/emulator';
import { type AccessKey, IdentityStore } from '../../local/identity';
import { buildRecord, type EmittedRecord, type RecordInput } from '../../shared/events/actiontrail-event';
import { LOOKUP_PARAMS } from '../../shared/replay/lookup';

let identities: IdentityStore;
let history: EmittedRecord[];
let emulator: ActionTrailEmulator;
let endpoint: string;
let auditor: AccessKey;

async function start(options: Partial<ActionTrailEmulatorOptions> = {}): Promise<void> {
  await emulator?.close();
  emulator = new ActionTrailEmulator({ identities, history: () => history, ...options });
  endpoint = await emulator.listen();
}

beforeEach(async () => {
  identities = new IdentityStore();
  history = [];
  auditor = identities.userWithKey('auditor').key;
  // Functional tests are not about pacing; the throttle tests restart the emulator at the real rate.
  await start({ ratePerSecond: 1000 });
});

afterEach(async () => {
  await emulator.close();
});

/** Appends one record as the emulators emit them; `overrides` replaces fields buildRecord derives. */
function emit(eventName: string, overrides: Partial<EmittedRecord> = {}, input: Partial<RecordInput> = {}) {
  const record = {
    ...buildRecord({
      caller: identities.rootCaller(),
      eventName,
      serviceName: 'Ram',
      eventSource: 'ram.aliyuncs.com',
      region: 'cn-shanghai',
      requestId: 'FAKE-REQUEST',
      sourceIp: '10.0.0.1',
      userAgent: 'test',
      referencedResources: { 'ACS::RAM::User': ['alice'] },
      ...input,
    }),
    ...overrides,
  };
  history.push(record);
  return record;
}

interface LookupBody {
  RequestId: string;
  StartTime: string;
  EndTime: string;
  NextToken: string;
  Events: EmittedRecord[];
}

/** LookupEvents through openapi-core's generic callApi, as F-ACTIONTRAIL-LOOKUP-API describes it. */
async function lookup(
  query: Record<string, unknown> = {},
  key: { accessKeyId: string; accessKeySecret: string } = auditor,
): Promise<LookupBody> {
  const client = new OpenApi(
    new $OpenApiUtil.Config({
      accessKeyId: key.accessKeyId,
      accessKeySecret: key.accessKeySecret,
      endpoint: new URL(endpoint).host,
      protocol: 'http',
      regionId: 'cn-hangzhou',
    }),
  );
  const params = new $OpenApiUtil.Params(LOOKUP_PARAMS);
  const request = new $OpenApiUtil.OpenApiRequest({ query: OpenApiUtil.query(query) });
  const response = await client.callApi(params, request, new RuntimeOptions({}));
  return response.body as LookupBody;
}

async function everyPage(query: Record<string, unknown>, between?: () => void): Promise<EmittedRecord[]> {
  const seen: EmittedRecord[] = [];
  let token = '';
  do {
    const page = await lookup({ ...query, ...(token ? { NextToken: token } : {}) });
    seen.push(...page.Events);
    token = page.NextToken;
    between?.();
  } while (token);
  return seen;
}

describe('ActionTrail LookupEvents emulator', () => {
  it('returns every event exactly once across NextToken pages, newest first by default', async () => {
    const emitted = Array.from({ length: 23 }, (_, i) => emit(`Event${i}`));
    const first = await lookup({ MaxResults: '5' });
    expect(first.Events).toHaveLength(5);
    expect(first.NextToken).not.toBe('');
    expect(first.RequestId).toMatch(/^[0-9A-F-]{36}$/);

    const seen = await everyPage({ MaxResults: '5' });
    expect(seen.map((r) => r.eventId)).toEqual(emitted.map((r) => r.eventId).reverse());
  });

  it('returns events oldest first with Direction FORWARD', async () => {
    const emitted = [emit('First'), emit('Second'), emit('Third')];
    const seen = await everyPage({ Direction: 'FORWARD', MaxResults: '2' });
    expect(seen.map((r) => r.eventId)).toEqual(emitted.map((r) => r.eventId));
  });

  it('orders by eventTime, not by the order events reached the bus', async () => {
    const late = emit('Late', { eventTime: '2026-01-02T00:00:00Z' });
    const early = emit('Early', { eventTime: '2026-01-01T00:00:00Z' });
    const page = await lookup({ StartTime: '2025-12-31T00:00:00Z', EndTime: '2026-01-03T00:00:00Z' });
    expect(page.Events.map((r) => r.eventId)).toEqual([late.eventId, early.eventId]);
  });

  it('keeps pages stable while new events arrive between calls', async () => {
    const emitted = Array.from({ length: 9 }, (_, i) => emit(`Event${i}`));
    const seen = await everyPage({ MaxResults: '4' }, () => emit('ArrivedLater'));
    expect(seen.map((r) => r.eventId)).toEqual(emitted.map((r) => r.eventId).reverse());
  });

  it('filters on LookupAttribute values exactly and case-sensitively', async () => {
    const created = emit('CreateAccessKey');
    emit('CreateAccessKey', { serviceName: 'Ims' });
    emit('UpdateAccessKey');
    const exact = await lookup({
      LookupAttribute: [
        { Key: 'ServiceName', Value: 'Ram' },
        { Key: 'EventName', Value: 'CreateAccessKey' },
      ],
    });
    expect(exact.Events.map((r) => r.eventId)).toEqual([created.eventId]);
    expect(
      (await lookup({ LookupAttribute: [{ Key: 'EventName', Value: 'createaccesskey' }] })).Events,
    ).toEqual([]);
  });

  it('matches users, resources and access keys', async () => {
    const { key } = identities.userWithKey('alice');
    const alice = identities.lookup(key.accessKeyId);
    if (alice.kind !== 'ok') throw new Error('alice has a key');
    const byAlice = emit(
      'PutBucketAcl',
      {},
      {
        caller: alice.caller,
        referencedResources: { 'ACS::OSS::Bucket': ['photos'] },
      },
    );
    emit('PutBucketAcl');
    const eventIds = async (attribute: { Key: string; Value: string }) =>
      (await lookup({ LookupAttribute: [attribute] })).Events.map((r) => r.eventId);
    expect(await eventIds({ Key: 'User', Value: 'alice' })).toEqual([byAlice.eventId]);
    expect(await eventIds({ Key: 'EventAccessKeyId', Value: key.accessKeyId })).toEqual([byAlice.eventId]);
    expect(await eventIds({ Key: 'ResourceName', Value: 'photos' })).toEqual([byAlice.eventId]);
    expect(await eventIds({ Key: 'ResourceType', Value: 'ACS::OSS::Bucket' })).toEqual([byAlice.eventId]);
  });

  it('returns only events inside StartTime and EndTime, and echoes the window', async () => {
    emit('Before', { eventTime: '2026-01-01T00:00:00Z' });
    const inside = emit('Inside', { eventTime: '2026-01-01T12:00:00Z' });
    emit('After', { eventTime: '2026-01-02T00:00:01Z' });
    const page = await lookup({ StartTime: '2026-01-01T00:00:01Z', EndTime: '2026-01-02T00:00:00Z' });
    expect(page).toMatchObject({
      StartTime: '2026-01-01T00:00:01Z',
      EndTime: '2026-01-02T00:00:00Z',
      NextToken: '',
    });
    expect(page.Events.map((r) => r.eventId)).toEqual([inside.eventId]);
  });

  it.each<[string, Record<string, unknown>]>([
    [
      'more than two lookup attributes',
      {
        LookupAttribute: [
          { Key: 'ServiceName', Value: 'Ram' },
          { Key: 'EventName', Value: 'CreateUser' },
          { Key: 'EventRW', Value: 'Write' },
        ],
      },
    ],
    [
      'a pair of attributes the API does not combine',
      {
        LookupAttribute: [
          { Key: 'EventName', Value: 'CreateUser' },
          { Key: 'EventAccessKeyId', Value: 'LTAIfake' },
        ],
      },
    ],
    ['an unknown attribute key', { LookupAttribute: [{ Key: 'Bucket', Value: 'photos' }] }],
    ['MaxResults above 50', { MaxResults: '51' }],
    ['StartTime without EndTime', { StartTime: '2026-01-01T00:00:00Z' }],
    ['a time not in yyyy-MM-ddTHH:mm:ssZ', { StartTime: '2026-01-01', EndTime: '2026-01-02' }],
    ['an unknown Direction', { Direction: 'SIDEWAYS' }],
  ])('refuses %s with InvalidParameter', async (_, query) => {
    await expect(lookup(query)).rejects.toMatchObject({ code: 'InvalidParameter', statusCode: 400 });
  });

  it('refuses a NextToken used with other parameters than those of its first page', async () => {
    Array.from({ length: 3 }, (_, i) => emit(`Event${i}`));
    const first = await lookup({ MaxResults: '1' });
    await expect(
      lookup({ MaxResults: '1', Direction: 'FORWARD', NextToken: first.NextToken }),
    ).rejects.toMatchObject({
      code: 'InvalidParameter',
    });
  });

  it('verifies the signature like every POP API', async () => {
    await expect(
      lookup({}, { accessKeyId: auditor.accessKeyId, accessKeySecret: 'fake-wrong' }),
    ).rejects.toMatchObject({ code: 'SignatureDoesNotMatch' });
    await expect(lookup({}, { accessKeyId: 'LTAIfake0000', accessKeySecret: 'fake' })).rejects.toMatchObject({
      code: 'InvalidAccessKeyId.NotFound',
    });
  });
});

describe('ActionTrail LookupEvents throttle', () => {
  beforeEach(async () => {
    await start();
  });

  it('answers a third call within one second from one caller with Throttling, and counts the burst', async () => {
    const results = await Promise.allSettled([lookup(), lookup(), lookup()]);
    const refused = results.filter((r) => r.status === 'rejected');
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({
      reason: {
        name: 'ThrottlingError',
        code: 'Throttling',
        statusCode: 400,
        retryAfter: expect.any(Number),
      },
    });
    expect(emulator.stats()).toEqual({ calls: 3, throttled: 1, peakCallsPerSecond: 3 });
  });

  it('throttles each caller separately', async () => {
    const other = identities.userWithKey('other-auditor').key;
    await Promise.all([lookup(), lookup(), lookup({}, other), lookup({}, other)]);
    expect(emulator.stats()).toMatchObject({ calls: 4, throttled: 0, peakCallsPerSecond: 2 });
  });

  it('never throttles a caller that paces itself to two calls per second', async () => {
    for (let i = 0; i < 4; i++) {
      await lookup();
      await new Promise((resolve) => setTimeout(resolve, 510));
    }
    expect(emulator.stats()).toEqual({ calls: 4, throttled: 0, peakCallsPerSecond: 2 });
  });
});
