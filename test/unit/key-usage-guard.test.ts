import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../shared/config/load';
import { parseEvents } from '../../shared/events/parse-actiontrail-events';
import { selectTrailRecords } from '../../shared/events/trail-log';
import type { ChangeRecord, ParsedItem } from '../../shared/events/types';
import {
  allowedNetworksFor,
  judgesRamUserKeys,
  keyUsageGuard,
  keyUsesToJudge,
  keyUseSubjectOf as subjectOf,
} from '../../shared/guards/key-usage';
import { createLogger } from '../../shared/log';

const config = (yaml = '') => parseConfig(`audit: {bucket: corp-audit}\n${yaml}`);
const published = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`../fixtures/published/${name}`, import.meta.url), 'utf8'));

/** An OSS call in the documented record shape, signed by the given identity. */
function call(identity: Record<string, unknown>, overrides: Record<string, unknown> = {}) {
  return {
    eventId: `ev-${Math.random().toString(36).slice(2)}`,
    eventVersion: 1,
    eventName: 'PutObject',
    eventType: 'ApiCall',
    eventSource: 'photos.oss-cn-hangzhou.aliyuncs.com',
    eventTime: '2026-12-06T10:15:00Z',
    acsRegion: 'cn-hangzhou',
    serviceName: 'Oss',
    sourceIpAddress: '198.51.100.9',
    userIdentity: { accountId: '1234567890123456', principalId: '1234567890123456', ...identity },
    requestParameters: { bucketName: 'photos', objectKey: 'a.txt' },
    ...overrides,
  };
}
const rootKey = { type: 'root-account', userName: 'root', accessKeyId: 'LTAIrootExampleKey01' };
const alice = { type: 'ram-user', userName: 'alice', accessKeyId: 'LTAI5tAliceExampleKey' };

const changes = (items: readonly ParsedItem[]): ChangeRecord[] =>
  items.flatMap((item) => (item.kind === 'change' ? [item.record] : []));
const now = new Date('2026-12-06T10:30:00Z');

describe('which trail records key-usage-guard reads', () => {
  it('takes a root-key upload besides sending it to the upload re-check', () => {
    const selection = selectTrailRecords([{ event: JSON.stringify(call(rootKey)) }]);
    expect(selection.routes.get('object-acl-recheck')).toHaveLength(1);
    expect(selection.routes.get('key-usage-guard')).toHaveLength(1);
  });

  it("keeps no RAM user's key use when no rule can fire on it (no network allowed), but still the root key's", () => {
    const logs = [call(alice), call(rootKey)].map((record) => ({ event: JSON.stringify(record) }));
    const judged = (ramUserKeys: boolean) =>
      (selectTrailRecords(logs, undefined, 0, ramUserKeys).routes.get('key-usage-guard') ?? []).length;
    expect(judged(false)).toBe(1);
    expect(judged(true)).toBe(2);
    expect(judgesRamUserKeys(parseConfig('audit: {bucket: audit-b}'))).toBe(false);
    expect(
      judgesRamUserKeys(
        parseConfig('audit: {bucket: audit-b}\naccessKeys: {allowedSourceCidrs: [10.0.0.0/8]}'),
      ),
    ).toBe(true);
  });

  it('takes the published console sign-ins, and no failed call, role session or console operation', () => {
    const logs = [
      published('aassub-ConsoleSignin-ramuser.json'),
      published('aascustomer-ConsoleSignin-root.json'),
      call(alice, { errorCode: 'AccessDenied' }),
      call({ type: 'assumed-role', userName: 'app:s', accessKeyId: 'STS.NTexample' }),
      published('oss-PutBucket-root-console.json'),
    ].map((record) => ({ event: JSON.stringify(record) }));
    const taken = selectTrailRecords(logs).routes.get('key-usage-guard') ?? [];
    expect(taken.map((r) => (r as { eventName: string }).eventName)).toEqual([
      'ConsoleSignin',
      'ConsoleSignin',
    ]);
  });
});

describe('the records key-usage-guard judges', () => {
  it('reads the MFA check of both published sign-ins as not MFA-authenticated', () => {
    const items = parseEvents([
      published('aassub-ConsoleSignin-ramuser.json'),
      published('aascustomer-ConsoleSignin-root.json'),
    ]);
    expect(changes(items).map((c) => c.actor.mfaAuthenticated)).toEqual([false, false]);
    expect(changes(keyUsesToJudge(items, config(), now))).toHaveLength(2);
  });

  it('gives every use of one root key in one hour the same dedupe key, and its own to another hour', () => {
    const items = parseEvents([
      call(rootKey),
      call(rootKey, { eventName: 'GetObject' }),
      call(rootKey, { eventTime: '2026-12-06T11:00:01Z' }),
    ]);
    const keys = changes(keyUsesToJudge(items, config(), now)).map((c) => c.dedupeKey);
    expect(keys[0]).toBe(keys[1]);
    expect(keys[2]).not.toBe(keys[0]);
    for (const key of keys) expect(key).not.toContain(rootKey.accessKeyId);
  });

  it('never shares a dedupe key with the guard that handles the event by name', () => {
    const items = parseEvents([call(alice, { eventName: 'PutBucketAcl' })]);
    const [judged] = changes(
      keyUsesToJudge(items, config('accessKeys: {allowedSourceCidrs: [10.0.0.0/8]}'), now),
    );
    expect(judged?.dedupeKey).toBe(`key-usage-guard/${changes(items)[0]?.eventId}`);
  });

  it('drops calls no rule fires on and keys a config exception covers', () => {
    const items = parseEvents([call(alice), call(rootKey)]);
    const excepted = config(
      'exceptions: {accessKeys: [{accessKeyId: "LTAIroot*", reason: "the break-glass key, until rotated"}]}',
    );
    expect(changes(keyUsesToJudge(items, excepted, now))).toEqual([]);
  });
});

describe('the networks a key may be used from', () => {
  const keys = config(`accessKeys:
  allowedSourceCidrs: [192.0.2.0/24]
  allowedNetworks:
    - {accessKeyId: LTAI5tAliceExampleKey, cidrs: [203.0.113.0/24]}
    - {user: "ali*", vpcIds: [vpc-corp]}
    - {user: bob, cidrs: [10.0.0.0/8], vpcIds: [vpc-bob]}`).accessKeys;

  it.each([
    [
      'the entry naming the key first',
      { type: 'ram-user', userName: 'alice', accessKeyId: 'LTAI5tAliceExampleKey' },
      ['203.0.113.0/24'],
      [],
    ],
    [
      'then the first entry whose glob names the user',
      { type: 'ram-user', userName: 'alina', accessKeyId: 'LTAIother' },
      [],
      ['vpc-corp'],
    ],
    [
      'else accessKeys.allowedSourceCidrs',
      { type: 'ram-user', userName: 'carol', accessKeyId: 'LTAIcarol' },
      ['192.0.2.0/24'],
      [],
    ],
    [
      'and for a root key never a user entry',
      { type: 'root-account', userName: 'bob', accessKeyId: 'LTAIroot1' },
      ['192.0.2.0/24'],
      [],
    ],
  ] as const)('are %s', (_name, actor, cidrs, vpcIds) => {
    expect(allowedNetworksFor(keys, actor)).toEqual({ cidrs, vpcIds });
  });

  it('refuses an entry that names neither a key nor a user, or no network', () => {
    expect(() => config('accessKeys: {allowedNetworks: [{cidrs: [10.0.0.0/8]}]}')).toThrow(
      /user or accessKeyId/,
    );
    expect(() => config('accessKeys: {allowedNetworks: [{user: bob}]}')).toThrow(/at least one/);
  });
});

describe('what key-usage-guard decides', () => {
  const context = (yaml: string) => ({ config: config(yaml), now, log: createLogger({ guard: 'test' }) });
  const [rootUse] = changes(parseEvents([call(rootKey)]));
  const [aliceUse] = changes(parseEvents([call(alice)]));

  it('only alerts on a root key, even with its rules in enforce mode, and gives the console steps', () => {
    if (!rootUse) throw new Error('no change');
    const c = context(
      'rules: {root-key-in-use: enforce, key-used-outside-network: enforce}\naccessKeys: {allowedSourceCidrs: [10.0.0.0/8]}',
    );
    const evaluation = keyUsageGuard.evaluate(rootUse, { subject: subjectOf(rootUse, c.config) }, c);
    expect(evaluation.findings.map((f) => [f.ruleId, f.mode])).toEqual([
      ['root-key-in-use', 'alert'],
      ['key-used-outside-network', 'alert'],
    ]);
    expect(evaluation.fix).toBeUndefined();
    expect(evaluation.advice?.join('\n')).toContain('account owner');
  });

  it('disables a RAM user’s key used from outside, as the fix', () => {
    if (!aliceUse) throw new Error('no change');
    const c = context(
      'rules: {key-used-outside-network: enforce}\naccessKeys: {allowedSourceCidrs: [10.0.0.0/8]}',
    );
    const owner = { userName: 'alice', tags: {} };
    const evaluation = keyUsageGuard.evaluate(aliceUse, { subject: subjectOf(aliceUse, c.config), owner }, c);
    expect(evaluation.findings.map((f) => [f.ruleId, f.mode])).toEqual([
      ['key-used-outside-network', 'enforce'],
    ]);
    expect(evaluation.fix?.actions).toEqual([
      { kind: 'disable-access-key', userName: 'alice', accessKeyId: alice.accessKeyId },
    ]);
  });
});
