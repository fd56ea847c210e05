import { randomBytes } from 'node:crypto';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { createRequire } from 'node:module';
import { compress, uncompress } from 'lz4-napi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IdentityStore } from '../../local/identity';
import { JSON_REFUSED, SlsEmulator, type SlsEmulatorOptions } from '../../local/sls/emulator';
import type { SlsErrorSpec } from '../../local/sls/errors';
import { signLog, stringToSign } from '../../local/sls/signature';
import { cursorAt } from '../../local/sls/store';
import { CallLog } from '../../shared/clients/calllog';
import { lz4Decompress } from '../../shared/clients/lz4';
import { createSlsApi, pullRange, type ShardRange } from '../../shared/clients/sls';
import { decodeLogGroupList } from '../../shared/clients/sls-protobuf';
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

describe('the local SLS answers PullLogs in the form the Accept header asks for', () => {
  const identities = new IdentityStore();
  const key = identities.userWithKey('reader').key;
  const group = {
    time: 1767225600,
    topic: 'actiontrail_audit_event',
    source: '10.1.2.3',
    tags: { __receive_time__: '1767225601' },
    logs: [{ event: '{"eventName":"PutObjectAcl"}' }, { event: '{"eventName":"GetObject"}' }],
  };

  /** A PullLogs GET signed like the SDKs sign it (LOG v1), with the given Accept and Accept-Encoding. */
  const pull = (endpoint: string, accept: string, encoding?: string) =>
    new Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
      const path = `/logstores/${LOGSTORE}/shards/0`;
      const query: Array<[string, string]> = [
        ['type', 'log'],
        ['cursor', cursorAt(0)],
        ['end_cursor', cursorAt(1)],
        ['count', '10'],
      ];
      const headers: Record<string, string> = {
        accept,
        date: new Date().toUTCString(),
        'x-log-apiversion': '0.6.0',
        'x-log-bodyrawsize': '0',
        'x-log-signaturemethod': 'hmac-sha256',
        ...(encoding ? { 'accept-encoding': encoding } : {}),
      };
      headers.authorization = `LOG ${key.accessKeyId}:${signLog(stringToSign('GET', path, query, headers), key.accessKeySecret)}`;
      const search = query.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
      const request = httpRequest(`${endpoint}${path}?${search}`, { headers }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks),
          }),
        );
      });
      request.on('error', reject);
      request.end();
    });

  const started: SlsEmulator[] = [];
  const start = async (pullLogsJson?: SlsEmulatorOptions['pullLogsJson']) => {
    const sls = new SlsEmulator({ identities, ...(pullLogsJson ? { pullLogsJson } : {}) });
    started.push(sls);
    const endpoint = await sls.listen();
    sls.store.createLogstore(PROJECT, LOGSTORE);
    sls.store.append(PROJECT, LOGSTORE, group);
    return { sls, endpoint };
  };
  afterAll(async () => {
    await Promise.all(started.map((sls) => sls.close()));
  });

  const expectedLogs = group.logs.map((log) => ({
    __topic__: group.topic,
    __source__: group.source,
    '__tag__:__receive_time__': '1767225601',
    __time__: String(group.time),
    ...log,
  }));

  it('answers application/x-protobuf with a LogGroupList, lz4-compressed when asked', async () => {
    const { endpoint, sls } = await start();
    const plain = await pull(endpoint, 'application/x-protobuf');
    expect(plain.status).toBe(200);
    expect(plain.headers).toMatchObject({
      'content-type': 'application/x-protobuf',
      'x-log-cursor': cursorAt(1),
      'x-log-count': '1',
      'x-log-bodyrawsize': String(plain.body.length),
    });
    expect(plain.headers['x-log-compresstype']).toBeUndefined();
    expect(decodeLogGroupList(plain.body)).toEqual(expectedLogs);

    const lz4 = await pull(endpoint, 'application/x-protobuf', 'lz4');
    expect(lz4.headers['x-log-compresstype']).toBe('lz4');
    const raw = lz4Decompress(lz4.body, Number(lz4.headers['x-log-bodyrawsize']));
    expect(raw.equals(plain.body)).toBe(true);
    expect(sls.answers).toEqual({ json: 0, protobuf: 2, refused: 0 });
  });

  it('answers application/json with the SDK model, tags included', async () => {
    const { endpoint } = await start();
    const json = await pull(endpoint, 'application/json');
    expect(json.headers['content-type']).toBe('application/json');
    expect(JSON.parse(json.body.toString())).toEqual({
      logGroupList: [
        {
          Topic: group.topic,
          Source: group.source,
          LogTags: [{ Key: '__receive_time__', Value: '1767225601' }],
          LogItems: group.logs.map((log) => ({
            Time: group.time,
            Contents: Object.entries(log).map(([Key, Value]) => ({ Key, Value })),
          })),
        },
      ],
    });
  });

  it('refuses a JSON request when told to, as the API reference suggests, and still serves protobuf', async () => {
    const { endpoint, sls } = await start('refused');
    const refused = await pull(endpoint, 'application/json', 'lz4');
    expect(refused.status).toBe(JSON_REFUSED.status);
    expect(JSON.parse(refused.body.toString())).toEqual({
      errorCode: JSON_REFUSED.code,
      errorMessage: JSON_REFUSED.message,
    });
    const served = await pull(endpoint, 'application/x-protobuf');
    expect(decodeLogGroupList(served.body)).toEqual(expectedLogs);
    expect(sls.answers).toEqual({ json: 0, protobuf: 1, refused: 1 });
  });

  it('answers protobuf whatever the Accept header when told to', async () => {
    const { endpoint } = await start('protobuf');
    const answer = await pull(endpoint, 'application/json');
    expect(answer.headers['content-type']).toBe('application/x-protobuf');
    expect(decodeLogGroupList(answer.body)).toEqual(expectedLogs);
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
