import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { compress, uncompress } from 'lz4-napi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IdentityStore } from '../../local/identity';
import { SlsEmulator } from '../../local/sls/emulator';
import type { SlsErrorSpec } from '../../local/sls/errors';
import { cursorAt } from '../../local/sls/store';
import { CallLog } from '../../shared/clients/calllog';
import { createSlsApi, pullRange, type ShardRange } from '../../shared/clients/sls';
import { CloudApiError } from '../../shared/errors';

const PROJECT = 'corp-trail';
const LOGSTORE = 'actiontrail_main';
const FAST_RETRY = { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 };

describe('PullLogs with @alicloud/sls20201230 against the local SLS', () => {
  const identities = new IdentityStore();
  let fault: SlsErrorSpec | undefined;
  let faultsLeft = 0;
  let denied = false;
  const sls = new SlsEmulator({
    identities,
    authorize: () => !denied,
    intercept: () => (faultsLeft-- > 0 ? fault : undefined),
  });
  let endpoint = '';
  const session = identities.assumeRole('ossguard-fn', 'sls-test', 3600_000);
  const credentials = {
    accessKeyId: session.accessKeyId,
    accessKeySecret: session.accessKeySecret,
    securityToken: session.securityToken,
  };
  const range = (): ShardRange => ({
    project: PROJECT,
    logstore: LOGSTORE,
    shardId: 0,
    cursor: cursorAt(0),
    endCursor: sls.store.endCursor(PROJECT, LOGSTORE, 0),
  });

  beforeAll(async () => {
    endpoint = await sls.listen();
    sls.store.createLogstore(PROJECT, LOGSTORE);
    sls.store.createLogstore('other-project', 'app-logs');
    for (let i = 0; i < 7; i++) {
      sls.store.append(PROJECT, LOGSTORE, {
        time: 1767225600 + i,
        topic: 'actiontrail_event',
        source: '127.0.0.1',
        logs: [{ 'event.eventId': `e${i}`, 'event.requestParameters.objectKey': `k+/=${i}` }],
      });
    }
  });

  afterAll(() => sls.close());

  it('pages over a cursor range and returns each log once, with the group topic', async () => {
    const calls = new CallLog();
    const logs = await pullRange(createSlsApi(credentials, endpoint), range(), calls, { count: 3 });
    expect(logs.map((l) => l['event.eventId'])).toEqual(['e0', 'e1', 'e2', 'e3', 'e4', 'e5', 'e6']);
    expect(logs[6]).toMatchObject({
      __topic__: 'actiontrail_event',
      'event.requestParameters.objectKey': 'k+/=6',
    });
    expect(calls.entries.map((c) => c.ok)).toEqual([true, true, true]);
    expect(calls.entries.every((c) => /^[0-9A-F]{24}$/.test(c.requestId ?? ''))).toBe(true);
  });

  it('reads only the range it is given, from a cursor inside the shard', async () => {
    const logs = await pullRange(
      createSlsApi(credentials, endpoint),
      { ...range(), cursor: cursorAt(2), endCursor: cursorAt(4) },
      new CallLog(),
    );
    expect(logs.map((l) => l['event.eventId'])).toEqual(['e2', 'e3']);
  });

  it.each([
    ['a wrong secret', { ...credentials, accessKeySecret: 'not-the-secret' }, 'SignatureNotMatch'],
    ['an STS key without its token', { ...credentials, securityToken: undefined }, 'Unauthorized'],
    [
      'another session token',
      { ...credentials, securityToken: `${credentials.securityToken}x` },
      'Unauthorized',
    ],
    ['an unknown key', { ...credentials, accessKeyId: 'STS.unknown' }, 'InvalidAccessKeyId'],
  ])('rejects %s with the SLS error, at once', async (_what, given, code) => {
    const calls = new CallLog();
    const failure = await pullRange(createSlsApi(given, endpoint), range(), calls, {
      retry: FAST_RETRY,
    }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(CloudApiError);
    expect(failure).toMatchObject({ service: 'sls', code, status: 401, retryable: false });
    expect(calls.entries).toHaveLength(1);
  });

  it('refuses a caller the RAM policy does not allow log:GetCursorOrData', async () => {
    denied = true;
    try {
      const failure = await pullRange(createSlsApi(credentials, endpoint), range(), new CallLog()).catch(
        (error: unknown) => error,
      );
      expect(failure).toMatchObject({ code: 'Unauthorized', retryable: false });
      expect((failure as Error).message).toContain('log:GetCursorOrData');
    } finally {
      denied = false;
    }
  });

  it('retries a server error with backoff and then reads the range', async () => {
    fault = { status: 503, code: 'ServerBusy', message: 'busy' };
    faultsLeft = 2;
    const calls = new CallLog();
    const logs = await pullRange(createSlsApi(credentials, endpoint), range(), calls, { retry: FAST_RETRY });
    expect(logs).toHaveLength(7);
    expect(calls.entries.map((c) => c.ok)).toEqual([false, false, true]);
  });

  it('gives up after the last attempt with a retryable error', async () => {
    fault = { status: 500, code: 'InternalServerError', message: 'boom' };
    faultsLeft = 10;
    const failure = await pullRange(createSlsApi(credentials, endpoint), range(), new CallLog(), {
      retry: FAST_RETRY,
    }).catch((error: unknown) => error);
    faultsLeft = 0;
    expect(failure).toMatchObject({ code: 'InternalServerError', status: 500, retryable: true });
  });

  it('finds the project from the logstore name when the host names none, and refuses unknown logstores', async () => {
    const failure = await pullRange(
      createSlsApi(credentials, endpoint),
      { ...range(), logstore: 'actiontrail_missing' },
      new CallLog(),
    ).catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: 'LogStoreNotExist', status: 404 });
  });
});

describe('the lz4 shim the bundles use instead of lz4-napi', () => {
  const shim = createRequire(import.meta.url)('../../scripts/shims/lz4-napi.cjs') as {
    compress(data: Buffer): Promise<Buffer>;
    uncompress(data: Buffer): Promise<Buffer>;
  };
  const samples: Array<[string, Buffer]> = [
    ['empty', Buffer.alloc(0)],
    ['one byte', Buffer.from('a')],
    ['random bytes', randomBytes(20_000)],
    [
      'repetitive JSON',
      Buffer.from(JSON.stringify(Array.from({ length: 500 }, (_, i) => ({ Key: 'k', Value: i % 9 })))),
    ],
    ['a long run', Buffer.alloc(70_000, 0x61)],
  ];

  it.each(samples)('decodes what lz4-napi encodes, and the reverse: %s', async (_what, data) => {
    expect((await shim.uncompress(await compress(data))).equals(data)).toBe(true);
    expect((await uncompress(await shim.compress(data))).equals(data)).toBe(true);
  });

  it('refuses a corrupt block instead of returning garbage', async () => {
    const good = await compress(Buffer.from('hello hello hello hello hello hello'));
    const corrupt = Buffer.from(good);
    corrupt.writeUInt32LE(good.readUInt32LE(0) + 5, 0);
    await expect(shim.uncompress(corrupt)).rejects.toThrow(/lz4/);
  });
});
