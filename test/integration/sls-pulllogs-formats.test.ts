import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IdentityStore } from '../../local/identity';
import { SlsEmulator, type SlsEmulatorOptions } from '../../local/sls/emulator';
import type { SlsErrorSpec } from '../../local/sls/errors';
import { cursorAt, type StoredGroup } from '../../local/sls/store';
import { CallLog } from '../../shared/clients/calllog';
import { createSlsApi, pullPages, pullRange, type ShardRange } from '../../shared/clients/sls';

const PROJECT = 'corp-trail';
const LOGSTORE = 'actiontrail_main';
const FAST_RETRY = { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 };

/** Seven groups: tags, an empty group, two logs in one, unicode, base64-ish values and one large record. */
const GROUPS: StoredGroup[] = Array.from({ length: 7 }, (_, i) => ({
  time: 1767225600 + i,
  topic: 'actiontrail_audit_event',
  source: `10.0.0.${i}`,
  tags: { __receive_time__: String(1767225700 + i), ...(i % 2 ? { __hostname__: 'trail' } : {}) },
  logs:
    i === 3
      ? []
      : [
          { event: JSON.stringify({ eventId: `e${i}`, key: `k+/=${i}`, who: 'ünïcödé 用户' }) },
          ...(i === 5
            ? [
                { event: JSON.stringify({ eventId: 'e5b', pad: 'x'.repeat(50_000) }), extra: '' } as Record<
                  string,
                  string
                >,
              ]
            : []),
        ],
}));

type Mode = NonNullable<SlsEmulatorOptions['pullLogsJson']>;

describe('PullLogs through the SDK (JSON) and through the documented protobuf request', () => {
  const identities = new IdentityStore();
  const faults: Partial<Record<Mode, { spec: SlsErrorSpec; left: number }>> = {};
  const emulators = Object.fromEntries(
    (['served', 'refused', 'protobuf'] as const).map((mode) => [
      mode,
      new SlsEmulator({
        identities,
        pullLogsJson: mode,
        intercept: () => {
          const fault = faults[mode];
          return fault && fault.left-- > 0 ? fault.spec : undefined;
        },
      }),
    ]),
  ) as Record<Mode, SlsEmulator>;
  const endpoints: Partial<Record<Mode, string>> = {};
  const session = identities.assumeRole('ossguard-fn', 'sls-formats', 3600_000);
  const credentials = {
    accessKeyId: session.accessKeyId,
    accessKeySecret: session.accessKeySecret,
    securityToken: session.securityToken,
  };
  const api = (mode: Mode) => createSlsApi(credentials, endpoints[mode] as string);
  const whole: ShardRange = {
    project: PROJECT,
    logstore: LOGSTORE,
    shardId: 0,
    cursor: cursorAt(0),
    endCursor: cursorAt(GROUPS.length),
  };
  const answers = (mode: Mode) => ({ ...emulators[mode].answers });
  const since = (mode: Mode, before: { json: number; protobuf: number; refused: number }) => {
    const now = emulators[mode].answers;
    return {
      json: now.json - before.json,
      protobuf: now.protobuf - before.protobuf,
      refused: now.refused - before.refused,
    };
  };

  beforeAll(async () => {
    for (const [mode, sls] of Object.entries(emulators) as Array<[Mode, SlsEmulator]>) {
      endpoints[mode] = await sls.listen();
      sls.store.createLogstore(PROJECT, LOGSTORE);
      for (const group of GROUPS) sls.store.append(PROJECT, LOGSTORE, group);
    }
  });

  afterAll(async () => {
    await Promise.all(Object.values(emulators).map((sls) => sls.close()));
  });

  it('reads the same logs either way, with the group topic, source and tags on every log', async () => {
    const read = async (mode: Mode) => {
      const client = api(mode);
      const logs = await pullRange(client, whole, new CallLog());
      return { logs, format: client.format };
    };
    const json = await read('served');
    const fallback = await read('refused');
    const ignored = await read('protobuf');
    expect(json.format).toBe('json');
    expect(fallback.format).toBe('protobuf');
    expect(ignored.format).toBe('protobuf');
    expect(json.logs).toHaveLength(7);
    expect(json.logs[0]).toEqual({
      __topic__: 'actiontrail_audit_event',
      __source__: '10.0.0.0',
      '__tag__:__receive_time__': '1767225700',
      __time__: '1767225600',
      event: JSON.stringify({ eventId: 'e0', key: 'k+/=0', who: 'ünïcödé 用户' }),
    });
    expect(json.logs[1]).toMatchObject({ '__tag__:__hostname__': 'trail' });
    expect(json.logs.map((log) => JSON.parse(log.event ?? '{}').eventId)).toEqual([
      'e0',
      'e1',
      'e2',
      'e4',
      'e5',
      'e5b',
      'e6',
    ]);
    expect(fallback.logs).toEqual(json.logs);
    expect(ignored.logs).toEqual(json.logs);
  });

  it('pages a multi-page range the same way in both forms, one call per page', async () => {
    for (const mode of ['served', 'refused', 'protobuf'] as const) {
      const calls = new CallLog();
      const logs = await pullRange(api(mode), { ...whole, cursor: cursorAt(1) }, calls, { count: 2 });
      expect(logs.map((log) => log.__time__)).toEqual(
        ['1', '2', '4', '5', '5', '6'].map((i) => String(1767225600 + Number(i))),
      );
      expect(calls.entries.map((c) => c.ok)).toEqual([true, true, true]);
    }
  });

  it('hands the range over one page at a time, so a caller need not hold all of it', async () => {
    for (const mode of ['served', 'refused'] as const) {
      const sizes: number[] = [];
      for await (const page of pullPages(api(mode), whole, new CallLog(), { count: 3 }))
        sizes.push(page.length);
      // Groups 0-2 hold 3 logs, 3-5 hold 3 (group 3 is empty, group 5 has two), group 6 holds 1.
      expect(sizes).toEqual([3, 3, 1]);
    }
  });

  it('reads an empty range as no logs in both forms, and stays at its end', async () => {
    for (const mode of ['served', 'refused', 'protobuf'] as const) {
      const client = api(mode);
      const page = await client.pullLogs({ ...whole, cursor: cursorAt(4), endCursor: cursorAt(4) }, 100);
      expect(page).toMatchObject({ logs: [], nextCursor: cursorAt(4) });
      expect(client.format).toBe(mode === 'served' ? 'json' : 'protobuf');
    }
    expect(await pullRange(api('refused'), { ...whole, cursor: cursorAt(7) }, new CallLog())).toEqual([]);
  });

  it('remembers the fallback: once JSON is refused, every later page goes straight to protobuf', async () => {
    const client = api('refused');
    const before = answers('refused');
    await pullRange(client, whole, new CallLog(), { count: 3 });
    expect(since('refused', before)).toEqual({ json: 0, protobuf: 3, refused: 1 });
    await pullRange(client, whole, new CallLog(), { count: 3 });
    expect(since('refused', before)).toEqual({ json: 0, protobuf: 6, refused: 1 });
  });

  it('remembers the fallback when SLS answers a JSON request in protobuf: only the first page is asked twice', async () => {
    const client = api('protobuf');
    const before = answers('protobuf');
    await pullRange(client, whole, new CallLog(), { count: 3 });
    // The SDK's request, answered in protobuf (its JSON.parse fails), then three documented requests.
    expect(since('protobuf', before)).toEqual({ json: 0, protobuf: 4, refused: 0 });
  });

  it('keeps to the SDK while SLS serves JSON', async () => {
    const client = api('served');
    const before = answers('served');
    await pullRange(client, whole, new CallLog(), { count: 3 });
    expect(since('served', before)).toEqual({ json: 3, protobuf: 0, refused: 0 });
    expect(client.format).toBe('json');
  });

  it('retries server errors on the protobuf path and reports refusals as the JSON path does', async () => {
    const client = api('refused');
    await client.pullLogs(whole, 1);
    expect(client.format).toBe('protobuf');

    faults.refused = { spec: { status: 503, code: 'ServerBusy', message: 'busy' }, left: 2 };
    const calls = new CallLog();
    const logs = await pullRange(client, whole, calls, { retry: FAST_RETRY });
    expect(logs).toHaveLength(7);
    expect(calls.entries.map((c) => c.ok)).toEqual([false, false, true]);
    expect(calls.entries.every((c) => /^[0-9A-F]{24}$/.test(c.requestId ?? ''))).toBe(true);

    faults.refused = {
      spec: { status: 401, code: 'SignatureNotMatch', message: 'Signature not matched.' },
      left: 9,
    };
    const failure = await pullRange(client, whole, new CallLog(), { retry: FAST_RETRY }).catch(
      (e: unknown) => e,
    );
    faults.refused = undefined;
    expect(failure).toMatchObject({
      service: 'sls',
      code: 'SignatureNotMatch',
      status: 401,
      retryable: false,
      message: 'sls PullLogs failed: SignatureNotMatch: Signature not matched.',
    });
  });

  it('does not take an authentication failure of the JSON request for a refused form', async () => {
    const client = createSlsApi({ ...credentials, accessKeySecret: 'wrong' }, endpoints.refused as string);
    const failure = await pullRange(client, whole, new CallLog(), { retry: FAST_RETRY }).catch(
      (e: unknown) => e,
    );
    expect(failure).toMatchObject({ code: 'SignatureNotMatch', status: 401 });
    expect(client.format).toBe('unknown');
  });
});
