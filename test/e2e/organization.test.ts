import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ram, * as $Ram from '@alicloud/ram20150501';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planMemberBootstrap } from '../../cli/commands/bootstrap';
import type { InjectedFault } from '../../local/acs/server';
import { FUNCTION_ROLE, LOCAL_OPERATOR_ROLE, type LocalCloud, MEMBER_ACCOUNTS } from '../../local/cloud';
import { POP_THROTTLED } from '../../local/faults';
import { newRequestId } from '../../local/identity';
import { ossRecord } from '../../local/oss/trail';
import { onRecipientBus, withRecipient } from '../../local/recipient';
import { RD_ERRORS } from '../../local/resourcemanager/emulator';
import { CallLog } from '../../shared/clients/calllog';
import { organizationApi } from '../../shared/clients/organization-api';
import type { CloudCredentials } from '../../shared/clients/oss';
import { popConfig } from '../../shared/clients/pop';
import { sdkClient } from '../../shared/clients/ram-sdk';
import { roleArn } from '../../shared/clients/sessions';
import { parseConfig } from '../../shared/config';
import {
  DEFAULT_MEMBER_ROLE,
  MEMBER_POLICY_NAME,
  MEMBER_SESSION_NAME,
  operatorRoleName,
} from '../../shared/deployment/names';
import { trustedPrincipals, trustPolicy } from '../../shared/deployment/role-policy';
import { type ActingPrincipal, wrapCloudEvent } from '../../shared/events/actiontrail-event';
import { restoreLocalState, rootTarget, runCli, useLocalState } from '../helpers/cli';
import { auditRecords, FAST_LOOKUP_PER_SECOND, startCloud } from './local-cloud';

const [B, C] = MEMBER_ACCOUNTS.map((m) => m.accountId) as [string, string];

/**
 * A member's change by a principal the test cannot act as (a session of the member role it did not take): the
 * record of a PutBucketAcl in `accountId` (F-ORG-TRAIL-RECIPIENT), handed to the function as trail-guard's
 * routes would.
 */
function memberAclChange(cloud: LocalCloud, accountId: string, bucket: string, caller: ActingPrincipal) {
  const record = ossRecord({
    operation: 'PutBucketAcl',
    caller,
    request: {
      method: 'PUT',
      bucket,
      query: [],
      headers: { 'x-oss-acl': 'public-read' },
      body: Buffer.alloc(0),
      sourceIp: '198.51.100.9',
      userAgent: 'aliyun-sdk-js/6.23.0',
    },
    region: cloud.region,
    requestId: newRequestId(),
  });
  return onRecipientBus(wrapCloudEvent(withRecipient(record, accountId)));
}

const OPERATOR_ROLE = operatorRoleName(DEFAULT_MEMBER_ROLE);

/** The member role and, for the local cloud's operator (who runs `--local` commands), the operator role. */
async function bootstrapMembers(...accounts: string[]): Promise<void> {
  for (const account of accounts) {
    const result = await runCli(
      'bootstrap',
      '--local',
      '--account',
      account,
      '--operator',
      LOCAL_OPERATOR_ROLE,
    );
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(new RegExp(`role ${DEFAULT_MEMBER_ROLE}: created`));
    expect(result.stdout).toMatch(new RegExp(`role ${OPERATOR_ROLE}: created`));
  }
}

const ramOf = (cloud: LocalCloud, credentials: CloudCredentials): Ram =>
  sdkClient(Ram, popConfig(credentials, 'ram.aliyuncs.com', 'cn-shanghai', cloud.endpoints.ram));

/** Who may assume a role of `accountId`, as GetRole shows it to that account's root. */
async function trustOf(cloud: LocalCloud, accountId: string, roleName: string): Promise<string[]> {
  const got = await ramOf(cloud, cloud.rootCredentials(accountId)).getRole(
    new $Ram.GetRoleRequest({ roleName }),
  );
  return trustedPrincipals(got.body?.role?.assumeRolePolicyDocument);
}

function doctorChecks(stdout: string) {
  return stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { id: string; ok: boolean; detail: string; fix?: string });
}

describe('one deployment guards the accounts of its organization', () => {
  let cloud: LocalCloud;

  beforeAll(async () => {
    // The feed's trail is the directory's multi-account trail: every account's records reach A's logstore.
    cloud = await startCloud(
      { organization: { accounts: [B] } },
      { organizationTrail: true, lookupCallsPerSecond: FAST_LOOKUP_PER_SECOND },
    );
    useLocalState(cloud, mkdtempSync(join(tmpdir(), 'ossguard-org-')));
    await bootstrapMembers(B);
  }, 60_000);
  afterAll(async () => {
    restoreLocalState();
    await cloud?.stop();
  });

  /** role-trust-guard's records of calls that changed B's member role. */
  const roleTrustRecords = async () =>
    (await auditRecords(cloud)).filter(
      (r) => r.guard === 'role-trust-guard' && r.eventName === 'UpdateRole' && r.accountId === B,
    );

  it('reverts a bucket made public in member B through the role it assumes there, and the record names both accounts', async () => {
    const owner = cloud.accountClient(B);
    await owner.putBucket('b-photos');
    await cloud.settle();
    await owner.putBucketACL('b-photos', 'public-read');
    await cloud.settle();

    expect((await owner.getBucketACL('b-photos')).acl).toBe('private');
    const records = (await auditRecords(cloud)).filter(
      (r) => r.eventName === 'PutBucketAcl' && r.resource.bucket === 'b-photos',
    );
    const byOwner = records.filter((r) => r.actor.type === 'root-account');
    expect(byOwner).toEqual([
      expect.objectContaining({
        decision: 'remediated',
        accountId: B,
        deployAccountId: cloud.identities.accountId,
        // Sealed like every field: the MAC covers both account ids (shared/audit/record.ts).
        mac: expect.any(String),
      }),
    ]);
    // The alert names the member account the change was in.
    const alert = cloud.dingtalk.messages().find((m) => JSON.stringify(m.body).includes('b-photos'));
    expect(JSON.stringify(alert?.body)).toContain(`**Account:** ${B}`);
  });

  it('does not treat its own revert in B (the member role under its session name) as a new change', async () => {
    const own = (await auditRecords(cloud)).filter(
      (r) =>
        r.resource.bucket === 'b-photos' &&
        r.actor.userName === `${DEFAULT_MEMBER_ROLE}:${MEMBER_SESSION_NAME}`,
    );
    expect(own.length).toBeGreaterThan(0);
    for (const record of own) {
      expect(record).toMatchObject({ decision: 'skipped', accountId: B });
      expect(record.reason).toMatch(
        new RegExp(`own role acs:ram::${B}:role/${DEFAULT_MEMBER_ROLE} .*loop prevention`),
      );
    }
  });

  it('judges the member role under another session name: someone else who may assume it', async () => {
    const owner = cloud.accountClient(B);
    await owner.putBucket('b-impostor');
    await owner.putBucketACL('b-impostor', 'public-read');
    const event = memberAclChange(cloud, B, 'b-impostor', {
      kind: 'assumed-role',
      accountId: B,
      principalId: '300000000000000002:someone',
      userName: `${DEFAULT_MEMBER_ROLE}:someone`,
      accessKeyId: 'STS.MEMBER0000000001',
      mfa: false,
    });
    expect((await cloud.bus.invoke('oss-acl-guard', JSON.stringify(event))).ok).toBe(true);
    expect((await owner.getBucketACL('b-impostor')).acl).toBe('private');
    await cloud.settle();
  });

  it('lets an operator trusted through bootstrap --operator assume only the read-only operator role, never the member role', async () => {
    const A = cloud.identities.accountId;
    // A person's role in A (any name), trusted by A's account, given to bootstrap as the operator.
    cloud.ram.ensureRole('secops', trustPolicy([`acs:ram::${A}:root`]), 'the security team');
    const boot = await runCli(
      'bootstrap',
      '--local',
      '--account',
      B,
      '--operator',
      'secops',
      '--operator',
      LOCAL_OPERATOR_ROLE,
    );
    expect(boot.stderr).toBe('');
    const alice = cloud.identities.assumeRole('secops', 'alice');
    const sts = organizationApi(alice, { sts: cloud.endpoints.sts });

    // Under ossguard's session name a session of the member role would pass for ossguard's own: refused.
    await expect(
      sts.assumeRole(roleArn(B, DEFAULT_MEMBER_ROLE), MEMBER_SESSION_NAME, new CallLog()),
    ).rejects.toMatchObject({ code: 'NoPermission' });
    await expect(
      sts.assumeRole(roleArn(B, DEFAULT_MEMBER_ROLE), 'alice', new CallLog()),
    ).rejects.toMatchObject({
      code: 'NoPermission',
    });
    expect(await trustOf(cloud, B, DEFAULT_MEMBER_ROLE)).toEqual([`acs:ram::${A}:role/${FUNCTION_ROLE}`]);

    // The operator role reads and changes nothing.
    const reader = await sts.assumeRole(roleArn(B, OPERATOR_ROLE), 'alice', new CallLog());
    const owner = cloud.accountClient(B);
    await owner.putBucket('b-operator-reads');
    const operatorOss = cloud.ossClient(reader);
    expect((await operatorOss.getBucketACL('b-operator-reads')).acl).toBe('private');
    await expect(operatorOss.putBucketACL('b-operator-reads', 'public-read')).rejects.toMatchObject({
      code: 'AccessDenied',
    });
    expect((await owner.getBucketACL('b-operator-reads')).acl).toBe('private');
  });

  it('leaves no change exempt that an operator tries to make in B as ossguard', async () => {
    const owner = cloud.accountClient(B);
    await owner.putBucket('b-as-ossguard');
    await cloud.settle();
    const alice = cloud.identities.assumeRole('secops', 'alice');
    const sts = organizationApi(alice, { sts: cloud.endpoints.sts });
    // Through the member role under ossguard's session name, the change would be taken for ossguard's own.
    await sts
      .assumeRole(roleArn(B, DEFAULT_MEMBER_ROLE), MEMBER_SESSION_NAME, new CallLog())
      .then((session) => cloud.ossClient(session).putBucketACL('b-as-ossguard', 'public-read'))
      .catch(() => undefined);
    await cloud.settle();
    expect((await owner.getBucketACL('b-as-ossguard')).acl).toBe('private');
  });

  it('judges a change made through the operator role, even under ossguard’s session name', async () => {
    const owner = cloud.accountClient(B);
    await owner.putBucket('b-operator');
    await owner.putBucketACL('b-operator', 'public-read');
    const event = memberAclChange(cloud, B, 'b-operator', {
      kind: 'assumed-role',
      accountId: B,
      principalId: `300000000000000003:${MEMBER_SESSION_NAME}`,
      userName: `${OPERATOR_ROLE}:${MEMBER_SESSION_NAME}`,
      accessKeyId: 'STS.OPERATOR00000001',
      mfa: false,
    });
    expect((await cloud.bus.invoke('oss-acl-guard', JSON.stringify(event))).ok).toBe(true);
    expect((await owner.getBucketACL('b-operator')).acl).toBe('private');
    await cloud.settle();
  });

  it('leaves an account outside the allow list alone, records the change as reported and alerts once a day', async () => {
    const owner = cloud.accountClient(C);
    const before = cloud.dingtalk.messages().length;
    await owner.putBucket('c-website');
    await owner.putBucketACL('c-website', 'public-read');
    await cloud.settle();

    expect((await owner.getBucketACL('c-website')).acl).toBe('public-read');
    const reported = (await auditRecords(cloud)).filter((r) => r.resource.bucket === 'c-website');
    expect(reported.length).toBeGreaterThan(0);
    for (const record of reported)
      expect(record).toMatchObject({
        decision: 'reported',
        accountId: C,
        reason: expect.stringMatching(/not in organization\.accounts; reported, not acted on/),
      });
    const digest = cloud.dingtalk.messages().slice(before);
    expect(digest).toHaveLength(1);
    const text = JSON.stringify(digest[0]?.body);
    expect(text).toContain(C);
    expect(text).toMatch(/change.*reported, not acted on/);

    // The same account later that day: recorded, not alerted again.
    await owner.putBucketACL('c-website', 'public-read-write');
    await cloud.settle();
    expect(cloud.dingtalk.messages().slice(before)).toHaveLength(1);
    expect((await owner.getBucketACL('c-website')).acl).toBe('public-read-write');
  });

  it('replays a member’s missed change from its own history, through its role', async () => {
    const owner = cloud.accountClient(B);
    await owner.putBucket('b-missed');
    await cloud.settle();
    const restartTrail = cloud.trails.suspendLogging();
    try {
      await owner.putBucketACL('b-missed', 'public-read');
      await cloud.settle();
      expect((await owner.getBucketACL('b-missed')).acl).toBe('public-read');
    } finally {
      restartTrail();
    }
    const { code, stderr } = await runCli('replay', '--local', '--since', '1h', '--accounts', B);
    expect(stderr).not.toMatch(/error/i);
    expect(code).toBe(0);
    expect((await owner.getBucketACL('b-missed')).acl).toBe('private');
  });

  it('bootstraps a member only with that member’s credentials, and only a member the config allows', async () => {
    const config = parseConfig(readFileSync(cloud.readyInfo().configFile, 'utf8'));
    const deployAccountId = cloud.identities.accountId;
    // A's own credentials would create the role in A, trusting the wrong account.
    await expect(
      planMemberBootstrap({ target: rootTarget(cloud), config, memberAccountId: B, deployAccountId }),
    ).rejects.toThrow(`the credentials are account ${deployAccountId}'s, not ${B}'s`);
    const refused = await runCli('bootstrap', '--local', '--account', C);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(`account ${C} is not in organization.accounts`);
    // Run again, the member's role is as the repo says: nothing to change.
    const again = await runCli('bootstrap', '--local', '--account', B);
    expect(again.stdout).toMatch(`role ${DEFAULT_MEMBER_ROLE}: unchanged`);
    expect(again.stdout).not.toMatch(/created|updated/);
  });

  it('audit list filters by account', async () => {
    const { stdout, code } = await runCli('audit', 'list', '--local', '--accounts', C, '--json');
    expect(code).toBe(0);
    const lines = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { accountId?: string });
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line.accountId).toBe(C);
  });

  it('doctor checks the multi-account trail, the operator role, and that the member role trusts the function role alone', async () => {
    const { stdout } = await runCli('doctor', '--local', '--json');
    const checks = doctorChecks(stdout);
    expect(checks.find((c) => c.id === 'trail-organization')).toMatchObject({ ok: true });
    expect(checks.find((c) => c.id === `member:${B}`)).toMatchObject({
      ok: true,
      detail: 'trusted by the function role alone',
    });

    // C has no member role: asked about it, doctor says it cannot be assumed and how to fix it.
    const some = await runCli('doctor', '--local', '--json', '--accounts', `${B},${C}`);
    const members = doctorChecks(some.stdout).filter((c) => c.id.startsWith('member:'));
    expect(members).toEqual([
      expect.objectContaining({ id: `member:${B}`, ok: true }),
      expect.objectContaining({
        id: `member:${C}`,
        ok: false,
        fix: expect.stringContaining(`ossguard bootstrap --account ${C}`),
      }),
    ]);
  });

  it('alerts, critical, when B’s administrator makes the member role trust them too, naming B and the bootstrap that restores it', async () => {
    const A = cloud.identities.accountId;
    const functionRole = `acs:ram::${A}:role/${FUNCTION_ROLE}`;
    const admin = `acs:ram::${B}:root`;
    // Earlier bootstraps of B changed the role too (judged, and passed): only this test's calls are looked at.
    const seen = new Set((await roleTrustRecords()).map((r) => r.eventId));
    const since = async () => (await roleTrustRecords()).filter((r) => !seen.has(r.eventId));
    // B's administrator lets themselves in, to act as ossguard (`ossguard-member:ossguard`) unjudged.
    await ramOf(cloud, cloud.rootCredentials(B)).updateRole(
      new $Ram.UpdateRoleRequest({
        roleName: DEFAULT_MEMBER_ROLE,
        newAssumeRolePolicyDocument: trustPolicy([functionRole, admin]),
      }),
    );
    await cloud.settle();
    const judged = await since();
    expect(judged.map((r) => r.decision)).toEqual(['alerted']);
    expect(judged[0]?.rules.map((f) => [f.ruleId, f.severity])).toEqual([
      ['ossguard-role-trust-changed', 'critical'],
    ]);
    expect(judged[0]?.rules[0]?.message).toContain(admin);
    const alert = cloud.dingtalk
      .messages()
      .map((m) => JSON.stringify(m.body))
      .find((body) => body.includes('ossguard-role-trust-changed'));
    expect(alert).toContain(`**Account:** ${B}`);
    expect(alert).toContain(`ossguard bootstrap --account ${B}`);
    expect(alert).toContain('are not judged');

    // ossguard's bootstrap writes the trust back: its own UpdateRole is judged and passes, alerted no more.
    const alertsBefore = cloud.dingtalk.messages().length;
    const fixed = await runCli('bootstrap', '--local', '--account', B, '--operator', LOCAL_OPERATOR_ROLE);
    expect(fixed.stderr).toBe('');
    await cloud.settle();
    expect(await trustOf(cloud, B, DEFAULT_MEMBER_ROLE)).toEqual([functionRole]);
    const after = await since();
    // Besides the alert, only passes: bootstrap's UpdateRole among them (and any earlier bootstrap's, late).
    expect(after.filter((r) => r.decision !== 'skipped').map((r) => r.decision)).toEqual(['alerted']);
    expect(after.filter((r) => r.decision === 'skipped').length).toBeGreaterThan(0);
    expect(
      cloud.dingtalk
        .messages()
        .slice(alertsBefore)
        .map((m) => JSON.stringify(m.body)),
    ).not.toContainEqual(expect.stringContaining('ossguard-role-trust-changed'));
  }, 60_000);

  it('flags a member role an older bootstrap let operators into, and bootstrap takes them out', async () => {
    const A = cloud.identities.accountId;
    const functionRole = `acs:ram::${A}:role/${FUNCTION_ROLE}`;
    const oldOperator = `acs:ram::${A}:role/secops`;
    // What `bootstrap --account B --operator secops` used to leave: the operator in the member role's trust.
    await ramOf(cloud, cloud.rootCredentials(B)).updateRole(
      new $Ram.UpdateRoleRequest({
        roleName: DEFAULT_MEMBER_ROLE,
        newAssumeRolePolicyDocument: trustPolicy([functionRole, oldOperator]),
      }),
    );
    const flagged = doctorChecks((await runCli('doctor', '--local', '--json')).stdout);
    expect(flagged.find((c) => c.id === `member:${B}`)).toMatchObject({
      ok: false,
      detail: expect.stringContaining(oldOperator),
      fix: expect.stringContaining(`ossguard bootstrap --account ${B}`),
    });

    const fixed = await runCli('bootstrap', '--local', '--account', B, '--operator', LOCAL_OPERATOR_ROLE);
    expect(fixed.stderr).toBe('');
    expect(fixed.stdout).toContain(
      `role ${DEFAULT_MEMBER_ROLE}: updated (trust policy also named ${oldOperator}: removed`,
    );
    expect(await trustOf(cloud, B, DEFAULT_MEMBER_ROLE)).toEqual([functionRole]);
    const again = doctorChecks((await runCli('doctor', '--local', '--json')).stdout);
    expect(again.find((c) => c.id === `member:${B}`)).toMatchObject({ ok: true });
  });

  it('flags a member role whose trust also lets an OIDC provider in, who names its own sessions, and bootstrap takes it out', async () => {
    const A = cloud.identities.accountId;
    const functionRole = `acs:ram::${A}:role/${FUNCTION_ROLE}`;
    const oidc = `acs:ram::${B}:oidc-provider/ci`;
    // With an IdP the caller picks the session name (F-RAM-TRUST-FEDERATED): `ossguard` is its to choose.
    const trust = JSON.parse(trustPolicy([functionRole])) as { Statement: unknown[] };
    trust.Statement.push({ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Federated: oidc } });
    await ramOf(cloud, cloud.rootCredentials(B)).updateRole(
      new $Ram.UpdateRoleRequest({
        roleName: DEFAULT_MEMBER_ROLE,
        newAssumeRolePolicyDocument: JSON.stringify(trust),
      }),
    );
    const flagged = doctorChecks((await runCli('doctor', '--local', '--json')).stdout);
    expect(flagged.find((c) => c.id === `member:${B}`)).toMatchObject({
      ok: false,
      detail: expect.stringContaining(oidc),
      fix: expect.stringContaining(`ossguard bootstrap --account ${B}`),
    });

    const fixed = await runCli('bootstrap', '--local', '--account', B, '--operator', LOCAL_OPERATOR_ROLE);
    expect(fixed.stderr).toBe('');
    expect(fixed.stdout).toContain(
      `role ${DEFAULT_MEMBER_ROLE}: updated (trust policy also named Federated:${oidc}: removed`,
    );
    expect(await trustOf(cloud, B, DEFAULT_MEMBER_ROLE)).toEqual([functionRole]);
    const again = doctorChecks((await runCli('doctor', '--local', '--json')).stdout);
    expect(again.find((c) => c.id === `member:${B}`)).toMatchObject({ ok: true });
  });

  // Last of this suite: B is left without the role ossguard acts through.
  it('records the member role deleted in B as failed, and alerts: ossguard cannot read B through a role that is gone', async () => {
    const ram = ramOf(cloud, cloud.rootCredentials(B));
    const seen = new Set((await auditRecords(cloud)).map((r) => r.eventId));
    await ram.detachPolicyFromRole(
      new $Ram.DetachPolicyFromRoleRequest({
        roleName: DEFAULT_MEMBER_ROLE,
        policyName: MEMBER_POLICY_NAME,
        policyType: 'Custom',
      }),
    );
    await ram.deleteRole(new $Ram.DeleteRoleRequest({ roleName: DEFAULT_MEMBER_ROLE }));
    await cloud.settle();
    const deleted = (await auditRecords(cloud)).filter(
      (r) => !seen.has(r.eventId) && r.accountId === B && r.eventName === 'DeleteRole',
    );
    // The role's deletion is re-read through the role itself (F-RAM-DELETEROLE), which no longer exists: a new
    // session is refused, one ossguard still holds may read nothing now. The change cannot be judged, and says
    // why, never skipped as ossguard's own.
    expect(deleted.map((r) => [r.guard, r.decision])).toEqual([['role-trust-guard', 'failed']]);
    expect(deleted[0]?.reason).toMatch(
      /AssumeRole failed with EntityNotExist\.Role|GetRole failed with NoPermission/,
    );
    expect(deleted[0]?.alerts.some((a) => a.ok)).toBe(true);
  }, 60_000);
});

describe('a member role configured in mixed case', () => {
  const MEMBER_ROLE = 'OssGuard-Member';
  let cloud: LocalCloud;
  const changeBy = async (bucket: string, roleName: string) => {
    const owner = cloud.accountClient(B);
    await owner.putBucket(bucket);
    await owner.putBucketACL(bucket, 'public-read');
    return memberAclChange(cloud, B, bucket, {
      kind: 'assumed-role',
      accountId: B,
      principalId: `300000000000000004:${MEMBER_SESSION_NAME}`,
      userName: `${roleName}:${MEMBER_SESSION_NAME}`,
      accessKeyId: 'STS.MEMBER0000000004',
      mfa: false,
    });
  };

  beforeAll(async () => {
    cloud = await startCloud(
      { organization: { accounts: [B], memberRole: MEMBER_ROLE } },
      { organizationTrail: true },
    );
    useLocalState(cloud, mkdtempSync(join(tmpdir(), 'ossguard-org-case-')));
    // The changes below reach the function only as the test hands them over.
    cloud.stopWatching();
    const result = await runCli('bootstrap', '--local', '--account', B);
    expect(result.stdout).toContain(`role ${MEMBER_ROLE}: created`);
  }, 60_000);
  afterAll(async () => {
    restoreLocalState();
    await cloud?.stop();
  });

  it('judges a change by the lower-case spelling of the member role under ossguard’s session name', async () => {
    const event = await changeBy('b-lower-case', MEMBER_ROLE.toLowerCase());
    expect((await cloud.bus.invoke('oss-acl-guard', JSON.stringify(event))).ok).toBe(true);
    expect((await cloud.accountClient(B).getBucketACL('b-lower-case')).acl).toBe('private');
  });

  it('still takes the member role as configured under ossguard’s session name for its own', async () => {
    const event = await changeBy('b-as-configured', MEMBER_ROLE);
    expect((await cloud.bus.invoke('oss-acl-guard', JSON.stringify(event))).ok).toBe(true);
    expect((await cloud.accountClient(B).getBucketACL('b-as-configured')).acl).toBe('public-read');
    const records = (await auditRecords(cloud)).filter((r) => r.resource.bucket === 'b-as-configured');
    expect(records).toEqual([expect.objectContaining({ decision: 'skipped' })]);
  });
});

describe('with accounts: all, a member’s change while the resource directory cannot be listed', () => {
  let cloud: LocalCloud;
  /** What the local Resource Directory answers ListAccounts with, while set. */
  let directory: InjectedFault | undefined;
  /** A RAM user of B, whose change trail-guard's routes hand to the function. */
  const someoneInB = (): ActingPrincipal => ({
    kind: 'ram-user',
    accountId: B,
    principalId: '200000000000000003',
    userName: 'someone',
    accessKeyId: 'LTAI5tMEMBERB0000000003',
    mfa: false,
  });
  const exposeInB = async (bucket: string) => {
    const owner = cloud.accountClient(B);
    await owner.putBucket(bucket);
    await owner.putBucketACL(bucket, 'public-read');
    return memberAclChange(cloud, B, bucket, someoneInB());
  };
  const recordsOf = async (bucket: string) =>
    (await auditRecords(cloud)).filter((r) => r.resource.bucket === bucket);

  beforeAll(async () => {
    cloud = await startCloud(
      { organization: { accounts: 'all' } },
      {
        organizationTrail: true,
        resourceManagerIntercept: (op) => (op.action === 'ListAccounts' ? directory : undefined),
      },
    );
    useLocalState(cloud, mkdtempSync(join(tmpdir(), 'ossguard-org-unlisted-')));
    // The changes below reach the function only as the test hands them over.
    cloud.stopWatching();
    await bootstrapMembers(B);
  }, 60_000);
  afterAll(async () => {
    restoreLocalState();
    await cloud?.stop();
  });

  it('records a refused listing as failed with the fix for the directory, not as a change outside it', async () => {
    directory = RD_ERRORS.NoPermission;
    const event = await exposeInB('b-refused');
    expect((await cloud.bus.invoke('oss-acl-guard', JSON.stringify(event))).ok).toBe(true);
    expect((await cloud.accountClient(B).getBucketACL('b-refused')).acl).toBe('public-read');
    expect(await recordsOf('b-refused')).toEqual([
      expect.objectContaining({
        decision: 'failed',
        accountId: B,
        reason: expect.stringMatching(/ListAccounts/),
      }),
    ]);
    const alert = cloud.dingtalk.messages().find((m) => JSON.stringify(m.body).includes('b-refused'));
    expect(JSON.stringify(alert?.body)).toContain('resourcemanager:ListAccounts');
  });

  it('fails the invocation on a throttled listing, so the change is delivered again and acted on then', async () => {
    directory = POP_THROTTLED;
    const event = JSON.stringify(await exposeInB('b-throttled'));
    expect((await cloud.bus.invoke('oss-acl-guard', event)).ok).toBe(false);
    expect(await recordsOf('b-throttled')).toEqual([]);
    expect((await cloud.accountClient(B).getBucketACL('b-throttled')).acl).toBe('public-read');

    directory = undefined;
    expect((await cloud.bus.invoke('oss-acl-guard', event)).ok).toBe(true);
    expect((await cloud.accountClient(B).getBucketACL('b-throttled')).acl).toBe('private');
    expect(await recordsOf('b-throttled')).toEqual([
      expect.objectContaining({ decision: 'remediated', accountId: B }),
    ]);
  });
});

describe('a member’s change while STS cannot issue the member role’s session', () => {
  let cloud: LocalCloud;
  /** How many of the next AssumeRole calls the local STS answers as throttled. */
  let throttledAssumes = 0;
  const exposeIn = async (accountId: string, bucket: string) => {
    const owner = cloud.accountClient(accountId);
    await owner.putBucket(bucket);
    await owner.putBucketACL(bucket, 'public-read');
    return JSON.stringify(
      memberAclChange(cloud, accountId, bucket, {
        kind: 'ram-user',
        accountId,
        principalId: '200000000000000004',
        userName: 'someone',
        accessKeyId: 'LTAI5tMEMBER00000000004',
        mfa: false,
      }),
    );
  };
  const recordsOf = async (bucket: string) =>
    (await auditRecords(cloud)).filter((r) => r.resource.bucket === bucket);

  beforeAll(async () => {
    cloud = await startCloud(
      { organization: { accounts: [B, C] } },
      {
        organizationTrail: true,
        stsIntercept: (op) => {
          if (op.action !== 'AssumeRole' || throttledAssumes <= 0) return undefined;
          throttledAssumes -= 1;
          return POP_THROTTLED;
        },
      },
    );
    useLocalState(cloud, mkdtempSync(join(tmpdir(), 'ossguard-org-sts-')));
    // The changes below reach the function only as the test hands them over.
    cloud.stopWatching();
    await bootstrapMembers(B, C);
  }, 60_000);
  afterAll(async () => {
    restoreLocalState();
    await cloud?.stop();
  });

  it('retries a throttled AssumeRole and reverts the member’s bucket in the same invocation', async () => {
    throttledAssumes = 2;
    const event = await exposeIn(C, 'c-throttled-once');
    expect((await cloud.bus.invoke('oss-acl-guard', event)).ok).toBe(true);
    expect(throttledAssumes).toBe(0);
    expect((await cloud.accountClient(C).getBucketACL('c-throttled-once')).acl).toBe('private');
    expect(await recordsOf('c-throttled-once')).toEqual([
      expect.objectContaining({ decision: 'remediated', accountId: C }),
    ]);
  });

  it('fails the invocation while AssumeRole stays throttled, records nothing, and acts when it is delivered again', async () => {
    throttledAssumes = Number.POSITIVE_INFINITY;
    const event = await exposeIn(B, 'b-sts-throttled');
    expect((await cloud.bus.invoke('oss-acl-guard', event)).ok).toBe(false);
    expect(await recordsOf('b-sts-throttled')).toEqual([]);
    expect((await cloud.accountClient(B).getBucketACL('b-sts-throttled')).acl).toBe('public-read');

    throttledAssumes = 0;
    expect((await cloud.bus.invoke('oss-acl-guard', event)).ok).toBe(true);
    expect((await cloud.accountClient(B).getBucketACL('b-sts-throttled')).acl).toBe('private');
    expect(await recordsOf('b-sts-throttled')).toEqual([
      expect.objectContaining({ decision: 'remediated', accountId: B }),
    ]);
  });
});

describe('ossguard scan --accounts all', () => {
  let cloud: LocalCloud;

  beforeAll(async () => {
    // dryRun: the buckets stay public for the scan to find, in A as in the members.
    cloud = await startCloud({ dryRun: true, organization: { accounts: 'all' } });
    useLocalState(cloud, mkdtempSync(join(tmpdir(), 'ossguard-org-scan-')));
    await bootstrapMembers(B, C);
  }, 60_000);
  afterAll(async () => {
    restoreLocalState();
    await cloud?.stop();
  });

  it("reports every account's exposures, each read by the operator through the member's read-only operator role", async () => {
    const exposed = { [cloud.identities.accountId]: 'a-public', [B]: 'b-public', [C]: 'c-public' };
    for (const [accountId, bucket] of Object.entries(exposed)) {
      const client = cloud.accountClient(accountId);
      await client.putBucket(bucket);
      await client.putBucketACL(bucket, 'public-read');
    }
    await cloud.settle();
    const { code, stdout, stderr } = await runCli('scan', '--local', '--accounts', 'all', '--json');
    expect(stderr).toBe('');
    expect(code).toBe(1);
    const lines = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { accountId: string; bucket: string; rules: string[] });
    for (const [accountId, bucket] of Object.entries(exposed))
      expect(lines).toContainEqual(
        expect.objectContaining({ accountId, bucket, rules: ['bucket-acl-public-read'] }),
      );
  });
});
