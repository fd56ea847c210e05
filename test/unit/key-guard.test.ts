import Ims, * as $Ims from '@alicloud/ims20190815';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import Ram, * as $Ram from '@alicloud/ram20150501';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Intercept } from '../../local/acs/server';
import { type AccessKey, IdentityStore } from '../../local/identity';
import { userPrincipalName } from '../../local/ram/apis';
import { RamEmulator } from '../../local/ram/emulator';
import { CallLog } from '../../shared/clients/calllog';
import { OssClientFactory, OssGateway } from '../../shared/clients/oss';
import { RamGateway } from '../../shared/clients/ram';
import { createRamApi } from '../../shared/clients/ram-sdk';
import { parseConfig } from '../../shared/config/load';
import { CloudApiError, EventParseError } from '../../shared/errors';
import { buildRecord, type CloudEvent, wrapCloudEvent } from '../../shared/events/actiontrail-event';
import { parseEvents } from '../../shared/events/parse-actiontrail-events';
import type { ChangeRecord } from '../../shared/events/types';
import { keyGuard } from '../../shared/guards/keys';
import { createLogger } from '../../shared/log';
import { act } from '../../shared/pipeline/act';
import { plan } from '../../shared/pipeline/plan';
import { type ChangeScope, type Decision, RemediationBudget } from '../../shared/pipeline/types';

/**
 * The guard's observe/decide over the RAM/IMS emulator, in process: the events are the ones the emulator
 * records for SDK calls, the live state is what the guard reads back through the real SDKs.
 */

type Key = Pick<AccessKey, 'accessKeyId' | 'accessKeySecret'>;

let identities: IdentityStore;
let events: CloudEvent[];
let emulator: RamEmulator;
let endpoint: string;
let intercept: Intercept | undefined;

beforeEach(async () => {
  identities = new IdentityStore();
  events = [];
  intercept = undefined;
  emulator = new RamEmulator({
    identities,
    events: { publish: (e) => events.push(e) },
    intercept: (op) => intercept?.(op),
  });
  endpoint = await emulator.listen();
});

afterEach(async () => {
  await emulator.close();
});

const sdkConfig = (key: Key) =>
  new $OpenApiUtil.Config({
    accessKeyId: key.accessKeyId,
    accessKeySecret: key.accessKeySecret,
    endpoint: new URL(endpoint).host,
    protocol: 'http',
    regionId: 'cn-shanghai',
  });
const ram = (key: Key = identities.rootKey) => new Ram(sdkConfig(key));
const ims = (key: Key = identities.rootKey) => new Ims(sdkConfig(key));
const upn = (userName: string) => userPrincipalName(identities, userName);
const aliceKey = () => identities.userWithKey('alice').key;

/** The change the guard would receive for the last event of that name the emulator recorded. */
function lastChange(eventName: string, edit: (event: CloudEvent) => void = () => {}): ChangeRecord {
  const event = structuredClone(events.findLast((e) => e.data.eventName === eventName));
  expect(event, `a recorded ${eventName}`).toBeDefined();
  edit(event!);
  const [item] = parseEvents(JSON.stringify(event));
  if (item?.kind !== 'change') throw new Error(`${eventName} did not parse: ${JSON.stringify(item)}`);
  return item.record;
}

async function createKeyFor(userName: string, creator: Key = aliceKey()): Promise<string> {
  identities.createUser(userName);
  const created = await ram(creator).createAccessKey(new $Ram.CreateAccessKeyRequest({ userName }));
  return created.body?.accessKey?.accessKeyId ?? '';
}

const FAST_RETRY = { attempts: 3, baseDelayMs: 1, maxDelayMs: 1 };

/** What the pipeline hands the guard, with the function role's STS session as FC would pass it. */
function scopeFor(config: Record<string, unknown> = {}): ChangeScope {
  const session = identities.assumeRole('ossguard-fn', 'access-key-guard');
  const credentials = {
    accessKeyId: session.accessKeyId,
    accessKeySecret: session.accessKeySecret,
    securityToken: session.securityToken,
  };
  const parsed = parseConfig(JSON.stringify({ audit: { bucket: 'ossguard-audit' }, ...config }));
  const calls = new CallLog();
  // The key guard reads no OSS state: a client to nowhere proves it.
  const nowhere = new OssGateway(
    new OssClientFactory({ credentials, endpoint: 'http://127.0.0.1:9' }),
    'cn-shanghai',
    calls,
  );
  return {
    config: parsed,
    oss: nowhere,
    audit: nowhere,
    ram: new RamGateway(createRamApi(credentials, { ram: endpoint, ims: endpoint }), calls, FAST_RETRY),
    calls,
    now: new Date('2026-06-01T00:00:00Z'),
    log: createLogger({}, () => {}),
  };
}

async function judge(change: ChangeRecord, scope = scopeFor()): Promise<Decision> {
  const observed = await keyGuard.observe(change, scope);
  if (observed.kind === 'gone') throw new Error(`unexpectedly gone: ${observed.reason}`);
  const evaluation = keyGuard.evaluate(change, observed.state, scope);
  const planned = plan(
    evaluation,
    scope.config,
    new RemediationBudget(scope.config.maxRemediationsPerInvocation),
  );
  return act(planned.decision, planned.fix, evaluation.bookkeeping ?? [], scope);
}

const statusOf = (userName: string, accessKeyId: string) =>
  identities.users.get(userName)?.accessKeys.find((k) => k.accessKeyId === accessKeyId)?.status;

describe('access-key-guard: whose key it judges', () => {
  it.each<[string, () => Promise<unknown>, { owner?: string; isRootKey: boolean; creator: string }]>([
    [
      'RAM CreateAccessKey naming UserName',
      () => createKeyFor('bob'),
      { owner: 'bob', isRootKey: false, creator: 'alice' },
    ],
    [
      'IMS CreateAccessKey naming UserPrincipalName',
      async () => {
        identities.createUser('bob');
        await ims().createAccessKey(new $Ims.CreateAccessKeyRequest({ userPrincipalName: upn('bob') }));
      },
      { owner: 'bob', isRootKey: false, creator: 'root' },
    ],
    [
      'IMS CreateAccessKey by a RAM user naming nobody (her own key)',
      () => ims(aliceKey()).createAccessKey(new $Ims.CreateAccessKeyRequest({})),
      { owner: 'alice', isRootKey: false, creator: 'alice' },
    ],
    [
      'IMS CreateAccessKey by the account naming nobody (a root key)',
      () => ims().createAccessKey(new $Ims.CreateAccessKeyRequest({})),
      { isRootKey: true, creator: 'root' },
    ],
    [
      'RAM CreateAccessKey for a RAM user who happens to be called root',
      () => createKeyFor('root', identities.rootKey),
      { owner: 'root', isRootKey: false, creator: 'root' },
    ],
  ])('reads the owner from %s', async (_how, create, expected) => {
    await create();
    const change = lastChange('CreateAccessKey');
    const scope = scopeFor();
    const observed = await keyGuard.observe(change, scope);

    expect(observed).toMatchObject({
      kind: 'present',
      state: {
        subject: { accessKeyId: change.resources.accessKeyId, isRootKey: expected.isRootKey },
      },
    });
    if (observed.kind !== 'present') return;
    expect(observed.state.subject.owner).toBe(expected.owner);
    expect(observed.state.subject.creator.userName).toBe(expected.creator);
    // A role cannot read the account's own keys, so a root key is judged from the event alone.
    expect(scope.calls.entries.map((c) => c.operation).sort()).toEqual(
      expected.isRootKey ? [] : ['GetLoginProfile', 'GetUser', 'ListAccessKeys'],
    );
  });

  it('refuses a CreateAccessKey event that names no AccessKey', async () => {
    await createKeyFor('bob');
    const change = lastChange('CreateAccessKey', (event) => {
      delete event.data.responseElements;
      event.data.referencedResources = {};
    });
    await expect(keyGuard.observe(change, scopeFor())).rejects.toBeInstanceOf(EventParseError);
  });

  it('refuses a key that names no user when a role session created it: it cannot be its own', async () => {
    const session = identities.assumeRole('ops', 's1');
    const record = buildRecord({
      caller: {
        kind: 'assumed-role',
        accountId: identities.accountId,
        principalId: `${session.roleId}:s1`,
        userName: 'ops:s1',
        accessKeyId: session.accessKeyId,
        mfa: false,
      },
      eventName: 'CreateAccessKey',
      serviceName: 'Ims',
      eventSource: 'ims-share.aliyuncs.com',
      region: 'cn-shanghai',
      requestId: 'REQ-1',
      sourceIp: '127.0.0.1',
      userAgent: 'test',
      referencedResources: { 'ACS::RAM::AccessKey': ['LTAIfake'] },
    });
    events.push(wrapCloudEvent(record));
    await expect(keyGuard.observe(lastChange('CreateAccessKey'), scopeFor())).rejects.toThrow(
      /names no user/,
    );
  });
});

describe('access-key-guard: a key that is no longer there', () => {
  it.each<[string, (userName: string, accessKeyId: string) => Promise<unknown>, RegExp]>([
    [
      'deleted',
      (userName, userAccessKeyId) =>
        ram().deleteAccessKey(new $Ram.DeleteAccessKeyRequest({ userName, userAccessKeyId })),
      /no longer exists/,
    ],
    [
      'disabled already',
      (userName, userAccessKeyId) =>
        ram().updateAccessKey(
          new $Ram.UpdateAccessKeyRequest({ userName, userAccessKeyId, status: 'Inactive' }),
        ),
      /already Inactive/,
    ],
    [
      'gone with its user',
      async (userName, userAccessKeyId) => {
        await ram().deleteAccessKey(new $Ram.DeleteAccessKeyRequest({ userName, userAccessKeyId }));
        await ram().deleteUser(new $Ram.DeleteUserRequest({ userName }));
      },
      /no longer exists/,
    ],
  ])('is skipped as gone when it was %s before the guard looked', async (_how, change, reason) => {
    const accessKeyId = await createKeyFor('bob');
    const created = lastChange('CreateAccessKey');
    await change('bob', accessKeyId);

    expect(await keyGuard.observe(created, scopeFor())).toEqual({
      kind: 'gone',
      reason: expect.stringMatching(reason),
    });
  });
});

describe('access-key-guard: decisions', () => {
  it('only alerts on a root key, even with its rules set to enforce, and writes nothing', async () => {
    await ims().createAccessKey(new $Ims.CreateAccessKeyRequest({}));
    const scope = scopeFor({ rules: { 'root-access-key': 'enforce', 'no-mfa': 'enforce' } });
    const decision = await judge(lastChange('CreateAccessKey'), scope);

    expect(decision).toMatchObject({
      decision: 'alerted',
      reason: expect.stringMatching(/account owner must disable it/),
      findings: [
        { ruleId: 'root-access-key', severity: 'critical', mode: 'alert' },
        { ruleId: 'no-mfa', mode: 'alert' },
      ],
    });
    expect(decision.advice?.join('\n')).toMatch(/avatar menu → AccessKey.*Disable, then Delete/s);
    expect(events.map((e) => e.data.eventName)).toEqual(['CreateAccessKey']);
  });

  it('disables the key with RAM UpdateAccessKey in enforce mode and logs the call with its request id', async () => {
    const accessKeyId = await createKeyFor('bob');
    const scope = scopeFor({ rules: { 'key-for-other-user': 'enforce' } });
    const decision = await judge(lastChange('CreateAccessKey'), scope);

    expect(decision).toMatchObject({
      decision: 'remediated',
      before: { accessKeyId, status: 'Active', activeKeys: 1 },
      after: { accessKeyId, status: 'Inactive' },
    });
    expect(statusOf('bob', accessKeyId)).toBe('Inactive');
    expect(scope.calls.entries).toContainEqual({
      service: 'ram',
      operation: 'UpdateAccessKey',
      requestId: expect.stringMatching(/^[0-9A-F-]{36}$/),
      ok: true,
    });
    expect(decision.advice).toEqual([
      expect.stringContaining('tag the RAM user: ossguard-exception = until='),
    ]);
  });

  it('only alerts once the blast-radius cap is spent', async () => {
    const accessKeyId = await createKeyFor('bob');
    const decision = await judge(
      lastChange('CreateAccessKey'),
      scopeFor({ rules: { 'key-for-other-user': 'enforce' }, maxRemediationsPerInvocation: 0 }),
    );

    expect(decision).toMatchObject({
      decision: 'alerted',
      reason: expect.stringMatching(/blast-radius cap/),
    });
    expect(statusOf('bob', accessKeyId)).toBe('Active');
  });

  it.each<[string, string, Partial<Decision>]>([
    [
      "a live tag exception naming key-for-other-user, which is about the creator and never the owner's to waive",
      'until=2026-07-31;reason=vendor integration;rules=key-for-other-user',
      {
        decision: 'remediated',
        ignoredExceptions: [
          {
            source: 'tag',
            match: 'ossguard-exception',
            why: expect.stringMatching(
              /^does not waive key-for-other-user\b.*: about someone other than its subject/,
            ),
          },
        ],
      },
    ],
    [
      'a tag exception running beyond exceptions.maxLifetimeDays',
      'until=2026-12-31;reason=vendor integration;rules=key-for-other-user',
      {
        decision: 'remediated',
        ignoredExceptions: [
          expect.objectContaining({ why: expect.stringMatching(/more than 90 days away/) }),
        ],
      },
    ],
    [
      'an expired tag exception',
      'until=2026-05-31;reason=vendor integration;rules=key-for-other-user',
      {
        decision: 'remediated',
        ignoredExceptions: [{ source: 'tag', match: 'ossguard-exception', why: 'expired on 2026-05-31' }],
      },
    ],
    [
      'a tag exception without an expiry',
      'reason=forever',
      {
        decision: 'remediated',
        ignoredExceptions: [expect.objectContaining({ why: expect.stringMatching(/^malformed: until=/) })],
      },
    ],
  ])('reads %s from the RAM user (IMS GetUser)', async (_case, value, expected) => {
    const accessKeyId = await createKeyFor('bob');
    await ims().tagResources(
      new $Ims.TagResourcesRequest({
        resourceType: 'user',
        resourcePrincipalName: [upn('bob')],
        tag: [new $Ims.TagResourcesRequestTag({ key: 'ossguard-exception', value })],
      }),
    );
    const decision = await judge(
      lastChange('CreateAccessKey'),
      scopeFor({ rules: { 'key-for-other-user': 'enforce' } }),
    );

    expect(decision).toMatchObject(expected);
    expect(statusOf('bob', accessKeyId)).toBe(expected.decision === 'excepted' ? 'Active' : 'Inactive');
  });

  it.each<[string[], boolean]>([
    [[], false],
    [['10.0.0.0/8'], true],
    [['127.0.0.0/8', '10.0.0.0/8'], false],
    [['::1/128'], true],
  ])('judges the source 127.0.0.1 against allowedSourceCidrs %j: untrusted %s', async (cidrs, untrusted) => {
    const { key } = identities.userWithKey('erin', { mfa: true });
    await createKeyFor('erin', key);
    const decision = await judge(
      lastChange('CreateAccessKey'),
      scopeFor({ accessKeys: { allowedSourceCidrs: cidrs } }),
    );

    const finding = decision.findings.find((f) => f.ruleId === 'untrusted-source');
    expect(finding?.evidence ?? null).toEqual(
      untrusted ? { sourceIp: '127.0.0.1', verdict: 'untrusted' } : null,
    );
  });

  it('counts only active keys, and flags a user who can also sign in to the console', async () => {
    const { key: old } = identities.userWithKey('erin', { mfa: true });
    old.status = 'Inactive';
    await ram().createLoginProfile(
      new $Ram.CreateLoginProfileRequest({ userName: 'erin', password: 'fake-Passw0rd!' }),
    );
    await createKeyFor('erin', identities.rootKey);
    const decision = await judge(lastChange('CreateAccessKey'));

    expect(decision.findings.map((f) => f.ruleId)).toEqual([
      'key-for-other-user',
      'no-mfa',
      'console-user-key',
    ]);
    expect(decision.before).toMatchObject({ activeKeys: 1 });
  });

  it('sees a second active key', async () => {
    const { key } = identities.userWithKey('erin', { mfa: true });
    await createKeyFor('erin', key);
    const decision = await judge(lastChange('CreateAccessKey'));

    expect(decision).toMatchObject({
      decision: 'alerted',
      findings: [{ ruleId: 'multiple-active-keys', evidence: { activeKeys: 2 } }],
      before: { activeKeys: 2 },
    });
  });

  it('skips a rotation: her own key, made with MFA, the old one retired before the guard looked', async () => {
    const { key: old } = identities.userWithKey('erin', { mfa: true });
    await createKeyFor('erin', old);
    old.status = 'Inactive';
    const decision = await judge(lastChange('CreateAccessKey'));

    expect(decision).toMatchObject({
      decision: 'skipped',
      findings: [],
      reason: expect.stringMatching(/^no rule fired/),
    });
  });
});

describe('access-key-guard: cloud faults', () => {
  it.each([
    [
      'retryably, after every attempt, once RAM keeps answering ServiceUnavailable',
      'ListAccessKeys',
      {
        status: 503,
        code: 'ServiceUnavailable',
        message: 'The request has failed due to a temporary failure of the server.',
      },
      FAST_RETRY.attempts,
    ],
    [
      'at once, not retryably, when the role may not read the user',
      'GetLoginProfile',
      { status: 403, code: 'NoPermission', message: 'You are not authorized to do this action.' },
      1,
    ],
  ])('fails %s', async (_how, failing, fault, attempts) => {
    await createKeyFor('bob');
    const change = lastChange('CreateAccessKey');
    let seen = 0;
    intercept = ({ action }) => {
      if (action !== failing) return undefined;
      seen += 1;
      return fault;
    };
    const failure = await keyGuard.observe(change, scopeFor()).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(CloudApiError);
    expect(failure).toMatchObject({
      service: 'ram',
      operation: failing,
      code: fault.code,
      retryable: fault.status >= 500,
    });
    expect(seen).toBe(attempts);
  });
});
