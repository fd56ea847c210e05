import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ActionTrailEmulator } from '../../local/actiontrail-api/emulator';
import { type AccessKey, IdentityStore } from '../../local/identity';
import { CloudApiError } from '../../shared/errors';
import { buildRecord, type EmittedRecord } from '../../shared/events/actiontrail-event';
import { actionTrailLookup, type LookupEvents, PagedLookup } from '../../shared/replay/lookup';
import { CallPacer } from '../../shared/replay/pacer';

let identities: IdentityStore;
let history: EmittedRecord[];
let emulator: ActionTrailEmulator;
let lookup: LookupEvents;
let endpoint: string;
let auditor: AccessKey;

beforeEach(async () => {
  identities = new IdentityStore();
  auditor = identities.userWithKey('auditor').key;
  history = [];
  emulator = new ActionTrailEmulator({ identities, history: () => history });
  endpoint = await emulator.listen();
  lookup = actionTrailLookup(auditor, 'cn-hangzhou', endpoint);
});

afterEach(async () => {
  await emulator.close();
});

function emit(eventName: string, count: number): EmittedRecord[] {
  const records = Array.from({ length: count }, (_, i) =>
    buildRecord({
      caller: identities.rootCaller(),
      eventName,
      serviceName: 'Oss',
      eventSource: 'oss-cn-hangzhou.aliyuncs.com',
      region: 'cn-hangzhou',
      requestId: `FAKE-${i}`,
      sourceIp: '10.0.0.1',
      userAgent: 'test',
      referencedResources: { 'ACS::OSS::Bucket': [`bucket-${i}`] },
    }),
  );
  history.push(...records);
  return records;
}

async function collect(paged: PagedLookup, eventName: string): Promise<string[]> {
  const ids: string[] = [];
  const start = new Date(Date.now() - 60_000);
  for await (const page of paged.events(eventName, start, new Date())) {
    ids.push(...page.map((e) => (e as EmittedRecord).eventId));
  }
  return ids;
}

describe('PagedLookup over the LookupEvents emulator', () => {
  it('returns every event of one name once, oldest first, at no more than two calls per second', async () => {
    const acl = emit('PutBucketAcl', 120);
    emit('PutBucketPolicy', 5);
    const paged = new PagedLookup(lookup);
    const started = Date.now();
    expect(await collect(paged, 'PutBucketAcl')).toEqual(acl.map((r) => r.eventId));
    expect(paged.stats).toEqual({ calls: 3, throttled: 0 });
    expect(emulator.stats()).toMatchObject({ calls: 3, throttled: 0, peakCallsPerSecond: 2 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
  });

  it('backs off on Throttling for as long as the server says, and still returns every event once', async () => {
    const acl = emit('PutBucketAcl', 250);
    // A pacer five times too eager: the emulator throttles, and only the backoff keeps the lookup going.
    const paged = new PagedLookup(lookup, { pacer: new CallPacer(10, 1_000), baseDelayMs: 50 });
    expect(await collect(paged, 'PutBucketAcl')).toEqual(acl.map((r) => r.eventId));
    const server = emulator.stats();
    expect(paged.stats.throttled).toBeGreaterThan(0);
    expect(paged.stats).toEqual({ calls: server.calls, throttled: server.throttled });
    expect(server.calls - server.throttled).toBe(5);
  });

  it('gives up at once on a refusal that retrying cannot fix', async () => {
    const wrongSecret = { accessKeyId: auditor.accessKeyId, accessKeySecret: 'fake-wrong' };
    const denied = new PagedLookup(actionTrailLookup(wrongSecret, 'cn-hangzhou', endpoint));
    await expect(collect(denied, 'PutBucketAcl')).rejects.toMatchObject({
      constructor: CloudApiError,
      code: 'SignatureDoesNotMatch',
    });
    expect(denied.stats).toEqual({ calls: 1, throttled: 0 });
  });
});
