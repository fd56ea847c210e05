import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  grantedActions,
  MEMBER_PIPELINE_ACTIONS,
  memberActions,
  OPERATOR_ACTIONS,
  operatorActions,
  PIPELINE_ACTIONS,
  ROLE_POLICY_TEMPLATE,
} from '../../deploy/role';
import type { OrganizationApi } from '../../shared/clients/organization-api';
import { OssClientFactory } from '../../shared/clients/oss';
import { SessionCache } from '../../shared/clients/sessions';
import { parseConfig } from '../../shared/config';
import { MEMBER_SESSION_NAME, OPERATOR_SESSION_NAME } from '../../shared/deployment/names';
import { isAllowed, parseRamPolicy } from '../../shared/deployment/ram-policy';
import {
  memberTrustPolicy,
  renderMemberPolicy,
  renderOperatorPolicy,
  renderRolePolicy,
  trustedPrincipals,
  unpinnedResources,
} from '../../shared/deployment/role-policy';
import { memberTrustVerdict } from '../../shared/deployment/trust';
import type { Actor } from '../../shared/events/types';
import { MemberAccounts } from '../../shared/pipeline/accounts';
import { isOwnRole, type OwnRole, ownRoles } from '../../shared/pipeline/dedupe';
import { consoleMfaRules, keyHygieneRules, registry } from '../../shared/rules';

const A = '1111111111111111';
const B = '2222222222222222';
const C = '3333333333333333';

describe('ossguard’s own role in a member, compared as RAM names the session', () => {
  const member: OwnRole = { accountId: B, roleName: 'ossguard-member', sessionName: 'ossguard' };
  const actor = (accountId: string, userName: string): Actor => ({
    type: 'assumed-role',
    accountId,
    userName,
  });

  it.each([
    ['the member role in B under ossguard’s session', actor(B, 'ossguard-member:ossguard'), true],
    ['the member role in B under another session', actor(B, 'ossguard-member:alice'), false],
    [
      'the member role under a session that only starts like ossguard’s',
      actor(B, 'ossguard-member:ossguard2'),
      false,
    ],
    ['the same role name in account C', actor(C, 'ossguard-member:ossguard'), false],
    ['another role of B under ossguard’s session', actor(B, 'admin:ossguard'), false],
    ['a role name that only starts like the member role', actor(B, 'ossguard-member-x:ossguard'), false],
    [
      'a RAM user of B named like the role',
      { type: 'ram-user', accountId: B, userName: 'ossguard-member:ossguard' } as Actor,
      false,
    ],
    ['a user name without a session', actor(B, 'ossguard-member'), false],
  ])('%s → %s', (_case, who, own) => {
    expect(isOwnRole(who, member)).toBe(own);
  });
});

describe('who a member role’s trust policy lets in, as doctor and bootstrap read it', () => {
  const fn = `acs:ram::${A}:role/ossguard-fn`;
  const oidc = `acs:ram::${B}:oidc-provider/ci`;
  const saml = `acs:ram::${B}:saml-provider/corp`;
  const doc = (...Statement: unknown[]) => JSON.stringify({ Version: '1', Statement });
  const allow = (Principal: unknown, Effect: unknown = 'Allow') => ({
    Action: 'sts:AssumeRole',
    Effect,
    Principal,
  });

  it.each([
    ['the function role alone', doc(allow({ RAM: [fn] })), [fn]],
    ['a RAM principal written as a string', doc(allow({ RAM: fn })), [fn]],
    [
      'an OIDC provider beside the function role',
      doc(allow({ RAM: [fn] }), allow({ Federated: oidc })),
      [fn, `Federated:${oidc}`],
    ],
    [
      'a SAML provider in the same statement',
      doc(allow({ RAM: fn, Federated: [saml] })),
      [fn, `Federated:${saml}`],
    ],
    [
      'a cloud service',
      doc(allow({ RAM: [fn] }), allow({ Service: 'fc.aliyuncs.com' })),
      [fn, 'Service:fc.aliyuncs.com'],
    ],
    [
      'a key spelled in another case',
      doc(allow({ federated: oidc, ram: fn })),
      [`federated:${oidc}`, `ram:${fn}`],
    ],
    ['an Effect spelled in lower case', doc(allow({ Federated: oidc }, 'allow')), [`Federated:${oidc}`]],
    ['a statement without an Effect', doc(allow({ Federated: oidc }, undefined)), [`Federated:${oidc}`]],
    [
      'a Deny statement, in any case',
      doc(allow({ RAM: [fn] }), allow({ Federated: oidc }, 'deny'), allow({ RAM: '*' }, 'Deny')),
      [fn],
    ],
    ['a Principal that is not an object', doc(allow('*')), ['*']],
    [
      'keys of the document spelled in lower case',
      JSON.stringify({ statement: [{ effect: 'Allow', principal: { Federated: oidc } }] }),
      [`Federated:${oidc}`],
    ],
    [
      'a single statement that is not in a list',
      JSON.stringify({ Statement: allow({ Service: ['log.aliyuncs.com'] }) }),
      ['Service:log.aliyuncs.com'],
    ],
    ['a document that does not parse', '{', []],
  ])('%s', (_case, document, principals) => {
    expect(trustedPrincipals(document)).toEqual(principals);
  });

  // Each of these once read as "trusted by the function role alone"; each must fail doctor's check.
  it.each([
    ['a statement inside a nested list', doc(allow({ RAM: [fn] }), [allow({ Federated: oidc })])],
    ['a statement that is a string', doc(allow({ RAM: [fn] }), 'Allow everyone')],
    [
      'a Principal named twice, the function role last',
      `{"Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":"*"},"Principal":{"RAM":"${fn}"}}]}`,
    ],
    [
      'a RAM key named twice in one Principal',
      `{"Statement":[{"Effect":"Allow","Principal":{"RAM":"${saml}","RAM":["${fn}"]}}]}`,
    ],
    [
      'an Effect named twice, Allow last',
      `{"Statement":[{"Effect":"Allow","Principal":{"RAM":["${fn}"]}},{"Effect":"Allow","Effect":"Deny","Principal":{"RAM":"*"}}]}`,
    ],
    [
      'a NotPrincipal beside the function role',
      doc(allow({ RAM: [fn] }), { Effect: 'Allow', NotPrincipal: { RAM: [fn] } }),
    ],
    [
      'a NotPrincipal spelled in lower case',
      doc(allow({ RAM: [fn] }), { Effect: 'Allow', notprincipal: { RAM: [fn] } }),
    ],
    ['the function role in upper case', doc(allow({ RAM: [fn.toUpperCase()] }))],
    [
      'the function role with its name in another case',
      doc(allow({ RAM: [fn.replace('ossguard-fn', 'OSSGuard-FN')] })),
    ],
  ])('%s is not trusted by the function role alone', (_case, document) => {
    expect(memberTrustVerdict(trustedPrincipals(document), A).ok).toBe(false);
  });
});

describe('doctor’s verdict on who a member role trusts', () => {
  const fn = `acs:ram::${A}:role/ossguard-fn`;

  it.each([
    ['the function role of the deploying account alone', [fn], A, true],
    ['the function role beside an OIDC provider', [fn, `Federated:acs:ram::${B}:oidc-provider/ci`], A, false],
    ['the function role beside a service', [fn, 'Service:fc.aliyuncs.com'], A, false],
    ['a role of that name in another account', [`acs:ram::${C}:role/ossguard-fn`], A, false],
    ['nobody', [], A, false],
    ['the function role while the deploying account is unknown', [fn], undefined, false],
  ] as const)('%s → %s', (_case, principals, accountId, ok) => {
    expect(memberTrustVerdict([...principals], accountId).ok).toBe(ok);
  });

  it('says why it cannot pass the check while the deploying account is unknown', () => {
    expect(memberTrustVerdict([`acs:ram::${C}:role/ossguard-fn`], undefined).detail).toMatch(
      /account id unknown.*AccountID/,
    );
  });
});

describe('the spelling of a role name that makes a change ossguard’s own', () => {
  const actor = (accountId: string, userName: string): Actor => ({
    type: 'assumed-role',
    accountId,
    userName,
  });

  it('exempts the member role only as configured, never its lower case: ossguard builds that ARN itself', () => {
    const { api } = fakeApi();
    const accounts = new MemberAccounts({
      organization: { accounts: [B], memberRole: 'OssGuard-Member' },
      homeAccountId: A,
      api: () => api,
      clientsFor: (credentials) => ({ oss: new OssClientFactory({ credentials }) }),
    });
    const [member] = accounts.knownRoles();
    if (!member) throw new Error('no member role');
    expect(isOwnRole(actor(B, 'OssGuard-Member:ossguard'), member)).toBe(true);
    expect(isOwnRole(actor(B, 'ossguard-member:ossguard'), member)).toBe(false);
  });

  it('still exempts the function role in the lower case fc3 gives its ARN', () => {
    const [fn] = ownRoles(A, 'OssGuard-Fn');
    if (!fn) throw new Error('no function role');
    expect(isOwnRole(actor(A, 'OssGuard-Fn:fc-session'), fn)).toBe(true);
    expect(isOwnRole(actor(A, 'ossguard-fn:fc-session'), fn)).toBe(true);
    expect(isOwnRole(actor(A, 'OSSGUARD-FN:fc-session'), fn)).toBe(false);
  });
});

/** STS and the directory as an injected interface: counts calls, answers like the local cloud. */
function fakeApi(directory: string[] = [A, B, C]) {
  const calls = { assume: [] as string[], list: 0 };
  const api: OrganizationApi = {
    async assumeRole(arn) {
      calls.assume.push(arn);
      return {
        accessKeyId: `STS.${calls.assume.length}`,
        accessKeySecret: 's',
        securityToken: 't',
        expiresAt: Date.now() + 3_600_000,
      };
    },
    async listAccounts() {
      calls.list++;
      return directory.map((accountId) => ({ accountId, displayName: accountId }));
    },
  };
  return { api, calls };
}

const placer = (accounts: 'all' | string[] | undefined, api: OrganizationApi) =>
  new MemberAccounts({
    organization: accounts ? { accounts, memberRole: 'ossguard-member' } : undefined,
    homeAccountId: A,
    api: () => api,
    clientsFor: (credentials) => ({ oss: new OssClientFactory({ credentials }) }),
  });

describe('where a change’s account stands', () => {
  it.each([
    ['the deploying account', [B], A, 'home'],
    ['a change that names no account', [B], undefined, 'home'],
    ['an allowed member', [B], B, 'member'],
    ['a member not in the allow list', [B], C, 'outside'],
    ['a directory account with all', 'all', C, 'member'],
    ['an account outside the directory with all', 'all', '4444444444444444', 'outside'],
    ['another account without an organization: one account, as before', undefined, B, 'home'],
  ] as const)('%s → %s', async (_case, accounts, accountId, kind) => {
    const { api } = fakeApi();
    const placement = await placer(accounts === 'all' ? 'all' : accounts && [...accounts], api).place(
      accountId,
    );
    expect(placement.kind).toBe(kind);
  });

  it('acts as before when FC names no account and no organization is configured', async () => {
    const { api } = fakeApi();
    const accounts = new MemberAccounts({
      organization: undefined,
      homeAccountId: undefined,
      api: () => api,
      clientsFor: (credentials) => ({ oss: new OssClientFactory({ credentials }) }),
    });
    expect((await accounts.place(B)).kind).toBe('home');
  });

  it('assumes a member’s role once for concurrent changes, and lists the directory once', async () => {
    const { api, calls } = fakeApi();
    const accounts = placer('all', api);
    await Promise.all([accounts.place(B), accounts.place(B), accounts.place(C)]);
    expect(calls.assume.sort()).toEqual([
      `acs:ram::${B}:role/ossguard-member`,
      `acs:ram::${C}:role/ossguard-member`,
    ]);
    expect(calls.list).toBe(1);
    expect(accounts.knownRoles().map((r) => r.accountId)).toEqual([B, C]);
  });

  it('gives the timer sweep the allowed members or the directory’s accounts, never the deploying one', async () => {
    const { api, calls } = fakeApi();
    expect(await placer(undefined, api).members()).toEqual([]);
    expect(await placer([A, B], api).members()).toEqual([B]);
    expect(calls.list).toBe(0);
    const all = placer('all', api);
    expect(await all.members()).toEqual([B, C]);
    await all.place(C);
    expect(calls.list).toBe(1);
  });

  it('takes a session anew shortly before it expires, and does not keep a refusal', async () => {
    let now = 0;
    let n = 0;
    const cache = new SessionCache(
      async () => {
        n++;
        if (n === 2) throw new Error('NoPermission');
        return { accessKeyId: `STS.${n}`, accessKeySecret: 's', securityToken: 't', expiresAt: 3_600_000 };
      },
      () => now,
    );
    expect((await cache.get('r')).accessKeyId).toBe('STS.1');
    now = 3_600_000 - 4 * 60_000;
    await expect(cache.get('r')).rejects.toThrow('NoPermission');
    expect((await cache.get('r')).accessKeyId).toBe('STS.3');
  });
});

describe('the policies of an organization', () => {
  const audit = { bucket: 'corp-ossguard-audit', prefix: 'ossguard/audit/' };
  const single = renderRolePolicy(ROLE_POLICY_TEMPLATE, audit, A);
  const listed = renderRolePolicy(ROLE_POLICY_TEMPLATE, audit, A, [], {
    accounts: [B],
    memberRole: 'ossguard-member',
  });
  const all = renderRolePolicy(ROLE_POLICY_TEMPLATE, audit, A, [], {
    accounts: 'all',
    memberRole: 'ossguard-member',
  });
  const allows = (policy: string, action: string, resource: string) =>
    isAllowed(parseRamPolicy(policy), action, resource);

  it.each([
    ['a single account: no sts:AssumeRole at all', single, `acs:ram::${B}:role/ossguard-member`, false],
    [
      'an allow list: the member role of a listed account',
      listed,
      `acs:ram::${B}:role/ossguard-member`,
      true,
    ],
    [
      'an allow list: not the member role of another account',
      listed,
      `acs:ram::${C}:role/ossguard-member`,
      false,
    ],
    ['an allow list: not another role of a listed account', listed, `acs:ram::${B}:role/admin`, false],
    ['all: the member role of any account', all, `acs:ram::${C}:role/ossguard-member`, true],
    ['all: never another role', all, `acs:ram::${C}:role/ResourceDirectoryAccountAccessRole`, false],
  ])('the function role may assume: %s', (_case, policy, arn, expected) => {
    expect(allows(policy, 'sts:AssumeRole', arn)).toBe(expected);
  });

  it('lets the function role list the directory only for all', () => {
    const accounts = `acs:resourcemanager:*:${A}:account/*`;
    expect(allows(all, 'resourcemanager:ListAccounts', accounts)).toBe(true);
    expect(allows(listed, 'resourcemanager:ListAccounts', accounts)).toBe(false);
  });

  it('counts the member roles as pinned: they name their own accounts by design', () => {
    expect(unpinnedResources(all, A)).toEqual([]);
  });

  it('gives the member role exactly the rules’ reads and reverts in the member, and nothing of the deployment', () => {
    const policy = renderMemberPolicy(ROLE_POLICY_TEMPLATE, B, memberActions());
    const statements = parseRamPolicy(policy);
    expect([...new Set(statements.flatMap((s) => s.actions))].sort()).toEqual(
      memberActions().filter((a) => !['oss:GetObject'].includes(a)),
    );
    for (const resource of statements.flatMap((s) => s.resources)) expect(resource.split(':')[3]).toBe(B);
    expect(allows(policy, 'oss:PutBucketAcl', `acs:oss:cn-hangzhou:${B}:photos`)).toBe(true);
    expect(allows(policy, 'ram:UpdateAccessKey', `acs:ram:*:${B}:user/alice`)).toBe(true);
    expect(allows(policy, 'oss:PutObject', `acs:oss:cn-hangzhou:${B}:photos/x`)).toBe(false);
    expect(allows(policy, 'oss:PutBucketAcl', `acs:oss:cn-hangzhou:${C}:photos`)).toBe(false);
  });

  it('grants the member role every read the timer sweep makes in the member, and none in another account', () => {
    const policy = renderMemberPolicy(ROLE_POLICY_TEMPLATE, B, memberActions());
    // What shared/sweep/sweep.ts lists and shared/sweep/assess.ts reads of each bucket, through the member role.
    const reads = [
      'oss:ListBuckets',
      'oss:GetBucketAcl',
      'oss:GetBucketPolicy',
      'oss:GetBucketPolicyStatus',
      'oss:GetBucketPublicAccessBlock',
      'oss:GetBucketTagging',
    ];
    for (const action of reads) {
      expect(allows(policy, action, `acs:oss:cn-hangzhou:${B}:photos`), action).toBe(true);
      expect(allows(policy, action, `acs:oss:cn-hangzhou:${C}:photos`), action).toBe(false);
    }
  });

  it('grants the member role every RAM call of the key sweep and of the guards it hands findings to, in the member only', () => {
    const policy = renderMemberPolicy(ROLE_POLICY_TEMPLATE, B, memberActions());
    // What shared/sweep/keys.ts and shared/guards/key-hygiene.ts call through the member role: the users, their
    // login profile, MFA device, keys and each key's last use, the key's owner, and the disable of enforce mode.
    const calls = [
      'ram:ListUsers',
      'ram:GetLoginProfile',
      'ram:GetUserMFAInfo',
      'ram:ListAccessKeys',
      'ram:GetAccessKeyLastUsed',
      'ram:GetUser',
      'ram:UpdateAccessKey',
    ];
    const declared = [...keyHygieneRules, ...consoleMfaRules].flatMap((rule) => [
      ...rule.readActions,
      ...(rule.remediation?.actions ?? []),
    ]);
    for (const action of calls) {
      expect([...declared, ...Object.keys(MEMBER_PIPELINE_ACTIONS)], action).toContain(action);
      expect(allows(policy, action, `acs:ram:*:${B}:user/stale`), action).toBe(true);
      expect(allows(policy, action, `acs:ram:*:${C}:user/stale`), action).toBe(false);
    }
    // The object pass in the member (shared/sweep/objects.ts): its exposed prefixes listed, each object's ACL.
    for (const [action, resource] of [
      ['oss:ListObjects', 'photos'],
      ['oss:GetObjectAcl', 'photos/shared/a.txt'],
      ['oss:PutObjectAcl', 'photos/shared/a.txt'],
    ] as const) {
      expect(allows(policy, action, `acs:oss:cn-hangzhou:${B}:${resource}`), action).toBe(true);
      expect(allows(policy, action, `acs:oss:cn-hangzhou:${C}:${resource}`), action).toBe(false);
    }
  });

  it('has the member role trusted by the deploying account’s function role alone, not its root', () => {
    expect(JSON.parse(memberTrustPolicy(A, 'ossguard-fn'))).toEqual({
      Statement: [
        { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { RAM: [`acs:ram::${A}:role/ossguard-fn`] } },
      ],
      Version: '1',
    });
  });

  it('reads the organization section of a config into the policy it renders', () => {
    const config = parseConfig(`audit: {bucket: abc}\norganization: {accounts: ["${B}"]}`);
    expect(renderRolePolicy(ROLE_POLICY_TEMPLATE, config.audit, A, [], config.organization)).toBe(
      renderRolePolicy(ROLE_POLICY_TEMPLATE, config.audit, A, [], {
        accounts: [B],
        memberRole: 'ossguard-member',
      }),
    );
  });
});

describe('the read-only operator role in a member', () => {
  const policy = renderOperatorPolicy(ROLE_POLICY_TEMPLATE, B, 'ossguard-member', operatorActions());
  const allows = (action: string, resource: string) => isAllowed(parseRamPolicy(policy), action, resource);
  const ruleReads = new Set(registry.flatMap((rule) => rule.readActions));
  const writes = new Set([
    ...registry.flatMap((rule) => rule.remediation?.actions ?? []),
    'oss:PutObject',
    'oss:DeleteObject',
  ]);

  it('grants exactly the operator actions, each a read a rule or the pipeline makes, never a remediation', () => {
    expect(grantedActions(policy)).toEqual(operatorActions());
    const pipelineReads = new Set([
      ...Object.keys(PIPELINE_ACTIONS),
      ...Object.keys(MEMBER_PIPELINE_ACTIONS),
    ]);
    for (const action of grantedActions(policy)) {
      expect(writes.has(action), action).toBe(false);
      // Every read verb of RAM, OSS and ActionTrail begins so; a write never does.
      expect(action, action).toMatch(/^[a-z-]+:(Get|List|Lookup|Describe)[A-Za-z]*$/);
      if (!ruleReads.has(action) && !pipelineReads.has(action))
        // Reads of the CLI alone, each named with its command.
        expect(OPERATOR_ACTIONS[action], action).toMatch(/`ossguard (replay|doctor)/);
    }
  });

  it('reads only in its own member, and of RAM only the member role', () => {
    for (const resource of parseRamPolicy(policy).flatMap((s) => s.resources))
      expect(resource.split(':')[3]).toBe(B);
    expect(allows('oss:GetBucketAcl', `acs:oss:cn-hangzhou:${B}:photos`)).toBe(true);
    expect(allows('oss:PutBucketAcl', `acs:oss:cn-hangzhou:${B}:photos`)).toBe(false);
    expect(allows('ram:UpdateAccessKey', `acs:ram:*:${B}:user/alice`)).toBe(false);
    expect(allows('ram:GetRole', `acs:ram:*:${B}:role/ossguard-member`)).toBe(true);
    expect(allows('ram:GetRole', `acs:ram:*:${B}:role/admin`)).toBe(false);
    expect(allows('actiontrail:LookupEvents', `acs:actiontrail:cn-hangzhou:${B}:*`)).toBe(true);
  });

  it('no longer gives the member role the history reads only operators make', () => {
    expect(memberActions()).not.toContain('actiontrail:LookupEvents');
  });

  it('is what the CLI reaches members through: no CLI or doctor code names ossguard’s own session name', () => {
    expect(OPERATOR_SESSION_NAME).not.toBe(MEMBER_SESSION_NAME);
    const sources = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
        entry.isDirectory()
          ? sources(join(dir, entry.name))
          : entry.name.endsWith('.ts')
            ? [join(dir, entry.name)]
            : [],
      );
    const naming = [...sources('cli'), ...sources('deploy')].filter((file) =>
      readFileSync(file, 'utf8').includes('MEMBER_SESSION_NAME'),
    );
    expect(naming).toEqual([]);
  });
});
