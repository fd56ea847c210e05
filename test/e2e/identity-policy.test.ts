import Ims, * as $Ims from '@alicloud/ims20190815';
import Ram, * as $Ram from '@alicloud/ram20150501';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local/cloud';
import type { AuditRecord } from '../../shared/audit/record';
import { attachPolicy, auditRecords, ramClient, startCloud } from './local-cloud';

const GUARD = 'identity-policy-guard';
const ALL_OSS = JSON.stringify({
  Version: '1',
  Statement: [{ Effect: 'Allow', Action: 'oss:*', Resource: 'acs:oss:*:*:*' }],
});
const READ_REPORTS = JSON.stringify({
  Version: '1',
  Statement: [{ Effect: 'Allow', Action: ['oss:GetObject'], Resource: ['acs:oss:*:*:reports/2026/*'] }],
});

describe('identity-policy-guard through trail-guard and the bundled function', () => {
  let cloud: LocalCloud;
  let ram: Ram;

  beforeAll(async () => {
    cloud = await startCloud();
    ram = ramClient(cloud, Ram);
  }, 60_000);
  afterAll(async () => {
    await cloud?.stop();
  });

  async function decision(eventName: string, policyName: string): Promise<AuditRecord> {
    await cloud.settle();
    const records = (await auditRecords(cloud)).filter(
      (r) =>
        r.guard === GUARD && r.eventName === eventName && JSON.stringify(r.before ?? {}).includes(policyName),
    );
    expect(records).toHaveLength(1);
    return records[0] as AuditRecord;
  }

  /** Who holds a policy now, as RAM answers ListEntitiesForPolicy. */
  async function holders(policyName: string, policyType = 'System') {
    const body = (
      await ram.listEntitiesForPolicy(new $Ram.ListEntitiesForPolicyRequest({ policyName, policyType }))
    ).body;
    return {
      users: body?.users?.user?.map((u) => u.userName) ?? [],
      groups: body?.groups?.group?.map((g) => g.groupName) ?? [],
      roles: body?.roles?.role?.map((r) => r.roleName) ?? [],
    };
  }

  const createRole = (roleName: string) =>
    ram.createRole(
      new $Ram.CreateRoleRequest({
        roleName,
        assumeRolePolicyDocument: JSON.stringify({
          Version: '1',
          Statement: [
            { Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: ['ecs.aliyuncs.com'] } },
          ],
        }),
      }),
    );

  const recordsAbout = async (eventName: string, principal: string) => {
    await cloud.settle();
    return (await auditRecords(cloud)).filter(
      (r) => r.guard === GUARD && r.eventName === eventName && r.before?.attachedTo === principal,
    );
  };

  const attachedTo = async (userName: string) =>
    (
      await ram.listPoliciesForUser(new $Ram.ListPoliciesForUserRequest({ userName }))
    ).body?.policies?.policy?.map((p) => p.policyName) ?? [];

  it('alerts when AliyunOSSFullAccess is attached to a user, and leaves it in alert mode', async () => {
    cloud.identities.createUser('pat');
    await attachPolicy(ram, { user: 'pat' }, 'AliyunOSSFullAccess');
    const record = await decision('AttachPolicyToUser', 'AliyunOSSFullAccess');
    expect(record.decision).toBe('alerted');
    expect(record.rules.map((f) => f.ruleId)).toEqual(['broad-system-policy-attached']);
    expect(await attachedTo('pat')).toEqual(['AliyunOSSFullAccess']);
  }, 60_000);

  it('detaches AliyunOSSFullAccess from a user in enforce mode', async () => {
    cloud.setConfig({ rules: { 'broad-system-policy-attached': 'enforce' } });
    cloud.identities.createUser('quinn');
    await attachPolicy(ram, { user: 'quinn' }, 'AliyunOSSFullAccess');
    await cloud.settle();
    const records = (await auditRecords(cloud)).filter(
      (r) => r.guard === GUARD && r.resource.ramUser === 'quinn' && r.eventName === 'AttachPolicyToUser',
    );
    expect(records.map((r) => r.decision)).toEqual(['remediated']);
    expect(await attachedTo('quinn')).toEqual([]);
  }, 60_000);

  it('alerts on a new custom policy with oss:* on every bucket, with the narrower statement to use', async () => {
    await ram.createPolicy(
      new $Ram.CreatePolicyRequest({ policyName: 'all-of-oss', policyDocument: ALL_OSS }),
    );
    const record = await decision('CreatePolicy', 'all-of-oss');
    expect(record.decision).toBe('alerted');
    const finding = record.rules.find((f) => f.ruleId === 'identity-policy-broad-oss');
    expect(finding?.message).toContain('oss:* on all buckets');
    const narrower = JSON.parse(String(finding?.evidence.narrower)) as {
      Action: string[];
      Resource: string[];
    };
    expect(narrower.Action).toContain('oss:GetObject');
    expect(narrower.Action.some((a) => /Put|Delete/.test(a))).toBe(false);
    expect(narrower.Resource).toEqual(['acs:oss:*:*:<bucket>/<prefix>/*']);
  }, 60_000);

  it('sets the previous version back as default when a broad version is made default, in enforce mode', async () => {
    cloud.setConfig({ rules: { 'identity-policy-broad-oss': 'enforce' } });
    await ram.createPolicy(
      new $Ram.CreatePolicyRequest({ policyName: 'reports-reader', policyDocument: READ_REPORTS }),
    );
    await ram.createPolicyVersion(
      new $Ram.CreatePolicyVersionRequest({
        policyName: 'reports-reader',
        policyDocument: ALL_OSS,
        setAsDefault: true,
      }),
    );
    const record = await decision('CreatePolicyVersion', 'reports-reader');
    expect(record).toMatchObject({ decision: 'remediated', after: { defaultVersion: 'v1' } });
    const policy = await ram.getPolicy(
      new $Ram.GetPolicyRequest({ policyName: 'reports-reader', policyType: 'Custom' }),
    );
    expect(policy.body?.policy?.defaultVersion).toBe('v1');
    const versions = await ram.listPolicyVersions(
      new $Ram.ListPolicyVersionsRequest({ policyName: 'reports-reader', policyType: 'Custom' }),
    );
    expect(versions.body?.policyVersions?.policyVersion?.map((v) => v.versionId)).toEqual(['v1', 'v2']);
  }, 60_000);

  it('judges a broad version made default later with SetDefaultPolicyVersion, and rolls it back in enforce mode', async () => {
    cloud.setConfig({ rules: { 'identity-policy-broad-oss': 'enforce' } });
    await ram.createPolicy(
      new $Ram.CreatePolicyRequest({ policyName: 'late-default', policyDocument: READ_REPORTS }),
    );
    await ram.createPolicyVersion(
      new $Ram.CreatePolicyVersionRequest({
        policyName: 'late-default',
        policyDocument: ALL_OSS,
        setAsDefault: false,
      }),
    );
    await cloud.settle();
    await ram.setDefaultPolicyVersion(
      new $Ram.SetDefaultPolicyVersionRequest({ policyName: 'late-default', versionId: 'v2' }),
    );
    const record = await decision('SetDefaultPolicyVersion', 'late-default');
    expect(record).toMatchObject({ decision: 'remediated', after: { defaultVersion: 'v1' } });
    const policy = await ram.getPolicy(
      new $Ram.GetPolicyRequest({ policyName: 'late-default', policyType: 'Custom' }),
    );
    expect(policy.body?.policy?.defaultVersion).toBe('v1');
  }, 60_000);

  it('rolls a second broad version back to the narrow version that was default before, not onto the first broad one it kept', async () => {
    cloud.setConfig({ rules: { 'identity-policy-broad-oss': 'enforce' } });
    const policyName = 'broad-again';
    await ram.createPolicy(new $Ram.CreatePolicyRequest({ policyName, policyDocument: READ_REPORTS }));
    const broaden = () =>
      ram.createPolicyVersion(
        new $Ram.CreatePolicyVersionRequest({ policyName, policyDocument: ALL_OSS, setAsDefault: true }),
      );
    await broaden();
    await cloud.settle();
    await broaden();
    await cloud.settle();
    const records = (await auditRecords(cloud)).filter(
      (r) => r.guard === GUARD && r.eventName === 'CreatePolicyVersion' && r.before?.policy === policyName,
    );
    // v2 rolled back to v1, which stays; then v3: v1 was the default before it (#21 item 3), v2 is as broad.
    expect(records.map((r) => [r.decision, r.after?.defaultVersion]).sort()).toEqual([
      ['remediated', 'v1'],
      ['remediated', 'v1'],
    ]);
    const policy = await ram.getPolicy(new $Ram.GetPolicyRequest({ policyName, policyType: 'Custom' }));
    expect(policy.body?.policy?.defaultVersion).toBe('v1');
  }, 60_000);

  it('only alerts when the version to roll back to is as broad, and leaves the default as it is', async () => {
    cloud.setConfig({ rules: { 'identity-policy-broad-oss': 'enforce' } });
    await ram.createPolicy(
      new $Ram.CreatePolicyRequest({ policyName: 'broad-twice', policyDocument: ALL_OSS }),
    );
    await ram.createPolicyVersion(
      new $Ram.CreatePolicyVersionRequest({
        policyName: 'broad-twice',
        policyDocument: ALL_OSS,
        setAsDefault: true,
      }),
    );
    const record = await decision('CreatePolicyVersion', 'broad-twice');
    expect(record).toMatchObject({
      decision: 'alerted',
      reason: expect.stringMatching(/a person must choose/),
    });
    const policy = await ram.getPolicy(
      new $Ram.GetPolicyRequest({ policyName: 'broad-twice', policyType: 'Custom' }),
    );
    expect(policy.body?.policy?.defaultVersion).toBe('v2');
  }, 60_000);

  it('detaches AliyunOSSFullAccess from a user group in enforce mode', async () => {
    cloud.setConfig({ rules: { 'broad-system-policy-attached': 'enforce' } });
    await ram.createGroup(new $Ram.CreateGroupRequest({ groupName: 'devs' }));
    cloud.identities.createUser('gale');
    await ram.addUserToGroup(new $Ram.AddUserToGroupRequest({ groupName: 'devs', userName: 'gale' }));
    await attachPolicy(ram, { group: 'devs' }, 'AliyunOSSFullAccess');
    const records = await recordsAbout('AttachPolicyToGroup', 'Group:devs');
    expect(records.map((r) => [r.decision, r.rules.map((f) => f.ruleId)])).toEqual([
      ['remediated', ['broad-system-policy-attached']],
    ]);
    expect((await holders('AliyunOSSFullAccess')).groups).not.toContain('devs');
  }, 60_000);

  it("detaches AliyunOSSFullAccess from a role in enforce mode, but never from ossguard's own role", async () => {
    cloud.setConfig({ rules: { 'broad-system-policy-attached': 'enforce' } });
    await createRole('app-uploader');
    for (const roleName of ['app-uploader', 'ossguard-fn'])
      await attachPolicy(ram, { role: roleName }, 'AliyunOSSFullAccess');
    const [app] = await recordsAbout('AttachPolicyToRole', 'Role:app-uploader');
    const [own] = await recordsAbout('AttachPolicyToRole', 'Role:ossguard-fn');
    expect(app?.decision).toBe('remediated');
    expect(own).toMatchObject({ decision: 'alerted', reason: expect.stringMatching(/ossguard's own role/) });
    expect((await holders('AliyunOSSFullAccess')).roles).toEqual(['ossguard-fn']);
  }, 60_000);

  it('only alerts, as critical, when AdministratorAccess is attached, even in enforce mode', async () => {
    cloud.setConfig({ rules: { 'admin-policy-attached': 'enforce' } });
    cloud.identities.createUser('root-like');
    await attachPolicy(ram, { user: 'root-like' }, 'AdministratorAccess');
    const [record] = await recordsAbout('AttachPolicyToUser', 'User:root-like');
    expect(record?.decision).toBe('alerted');
    expect(record?.rules.map((f) => [f.ruleId, f.severity])).toEqual([['admin-policy-attached', 'critical']]);
    expect((await holders('AdministratorAccess')).users).toEqual(['root-like']);
  }, 60_000);

  it('alerts when a broad custom policy is attached to a group or a role, reading the policy from RAM', async () => {
    await ram.createPolicy(new $Ram.CreatePolicyRequest({ policyName: 'team-oss', policyDocument: ALL_OSS }));
    await ram.createGroup(new $Ram.CreateGroupRequest({ groupName: 'analysts' }));
    await createRole('batch-job');
    await attachPolicy(ram, { group: 'analysts' }, 'team-oss', 'Custom');
    await attachPolicy(ram, { role: 'batch-job' }, 'team-oss', 'Custom');
    const group = await recordsAbout('AttachPolicyToGroup', 'Group:analysts');
    const role = await recordsAbout('AttachPolicyToRole', 'Role:batch-job');
    for (const records of [group, role]) {
      expect(records.map((r) => [r.decision, r.rules.map((f) => f.ruleId)])).toEqual([
        ['alerted', ['identity-policy-broad-oss']],
      ]);
    }
    expect(await holders('team-oss', 'Custom')).toEqual({
      users: [],
      groups: ['analysts'],
      roles: ['batch-job'],
    });
  }, 60_000);

  const detachFromUser = (userName: string) =>
    ram.detachPolicyFromUser(
      new $Ram.DetachPolicyFromUserRequest({
        policyType: 'System',
        policyName: 'AliyunOSSFullAccess',
        userName,
      }),
    );

  it('alerts when a user is added to a group that holds AliyunOSSFullAccess, and leaves the membership in enforce mode', async () => {
    await ram.createGroup(new $Ram.CreateGroupRequest({ groupName: 'storage-admins' }));
    await attachPolicy(ram, { group: 'storage-admins' }, 'AliyunOSSFullAccess');
    await cloud.settle();
    cloud.setConfig({ rules: { 'broad-system-policy-attached': 'enforce' } });
    cloud.identities.createUser('rex');
    await ram.addUserToGroup(
      new $Ram.AddUserToGroupRequest({ groupName: 'storage-admins', userName: 'rex' }),
    );
    const records = await recordsAbout('AddUserToGroup', 'Group:storage-admins');
    expect(records.map((r) => [r.decision, r.rules.map((f) => f.ruleId)])).toEqual([
      ['alerted', ['broad-system-policy-attached']],
    ]);
    expect(records[0]?.rules[0]?.message).toContain('rex');
    const groups = await ram.listGroupsForUser(new $Ram.ListGroupsForUserRequest({ userName: 'rex' }));
    expect(groups.body?.groups?.group?.map((g) => g.groupName)).toEqual(['storage-admins']);
  }, 60_000);

  it('alerts when a user is added to a group that holds a broad custom policy', async () => {
    await ram.createPolicy(new $Ram.CreatePolicyRequest({ policyName: 'ops-oss', policyDocument: ALL_OSS }));
    await ram.createGroup(new $Ram.CreateGroupRequest({ groupName: 'ops' }));
    await attachPolicy(ram, { group: 'ops' }, 'ops-oss', 'Custom');
    await cloud.settle();
    cloud.identities.createUser('sam');
    await ram.addUserToGroup(new $Ram.AddUserToGroupRequest({ groupName: 'ops', userName: 'sam' }));
    const records = await recordsAbout('AddUserToGroup', 'Group:ops');
    expect(records.map((r) => [r.decision, r.rules.map((f) => f.ruleId)])).toEqual([
      ['alerted', ['identity-policy-broad-oss']],
    ]);
  }, 60_000);

  it("detaches AliyunOSSFullAccess in enforce mode from a role named like ossguard's own in another case", async () => {
    cloud.setConfig({ rules: { 'broad-system-policy-attached': 'enforce' } });
    await createRole('OSSGUARD-FN');
    await attachPolicy(ram, { role: 'OSSGUARD-FN' }, 'AliyunOSSFullAccess');
    const records = await recordsAbout('AttachPolicyToRole', 'Role:OSSGUARD-FN');
    expect(records.map((r) => r.decision)).toEqual(['remediated']);
    expect((await holders('AliyunOSSFullAccess')).roles).not.toContain('OSSGUARD-FN');
  }, 60_000);

  it('alerts when AliyunOSSFullAccess is attached to a user and detached again before ossguard reads RAM', async () => {
    cloud.identities.createUser('blink');
    await attachPolicy(ram, { user: 'blink' }, 'AliyunOSSFullAccess');
    await detachFromUser('blink');
    const records = await recordsAbout('AttachPolicyToUser', 'User:blink');
    expect(records.map((r) => [r.decision, r.rules.map((f) => f.ruleId)])).toEqual([
      ['alerted', ['broad-system-policy-attached']],
    ]);
    expect(records[0]?.rules[0]?.message).toContain('detached since');
  }, 60_000);

  it('never detaches from a holder RAM lists under another case than the call named: that may be someone else', async () => {
    cloud.setConfig({});
    cloud.identities.createUser('mallory');
    cloud.identities.createUser('Mallory');
    await attachPolicy(ram, { user: 'mallory' }, 'AliyunOSSFullAccess');
    await cloud.settle();
    cloud.setConfig({ rules: { 'broad-system-policy-attached': 'enforce' } });
    await attachPolicy(ram, { user: 'Mallory' }, 'AliyunOSSFullAccess');
    await detachFromUser('Mallory');
    const records = await recordsAbout('AttachPolicyToUser', 'User:mallory');
    expect(records.map((r) => r.decision)).toEqual(['alerted', 'alerted']);
    expect(await attachedTo('mallory')).toEqual(['AliyunOSSFullAccess']);
  }, 60_000);

  it('alerts on a broad version made default and replaced as default before ossguard reads RAM, and writes nothing', async () => {
    cloud.setConfig({ rules: { 'identity-policy-broad-oss': 'enforce' } });
    await ram.createPolicy(
      new $Ram.CreatePolicyRequest({ policyName: 'flash', policyDocument: READ_REPORTS }),
    );
    await cloud.settle();
    await ram.createPolicyVersion(
      new $Ram.CreatePolicyVersionRequest({
        policyName: 'flash',
        policyDocument: ALL_OSS,
        setAsDefault: true,
      }),
    );
    await ram.setDefaultPolicyVersion(
      new $Ram.SetDefaultPolicyVersionRequest({ policyName: 'flash', versionId: 'v1' }),
    );
    await cloud.settle();
    const records = (await auditRecords(cloud)).filter(
      (r) => r.guard === GUARD && r.eventName === 'CreatePolicyVersion' && r.before?.policy === 'flash',
    );
    expect(records.map((r) => [r.decision, r.before?.version, r.rules.map((f) => f.ruleId)])).toEqual([
      ['alerted', 'v2', ['identity-policy-broad-oss']],
    ]);
    expect(records[0]?.reason).toMatch(/no longer its default/);
    const policy = await ram.getPolicy(
      new $Ram.GetPolicyRequest({ policyName: 'flash', policyType: 'Custom' }),
    );
    expect(policy.body?.policy?.defaultVersion).toBe('v1');
  }, 60_000);

  it('alerts when a user is added through IMS (the RAM console), named by its logon name, to a group holding AdministratorAccess', async () => {
    await ram.createGroup(new $Ram.CreateGroupRequest({ groupName: 'admins' }));
    await attachPolicy(ram, { group: 'admins' }, 'AdministratorAccess');
    await cloud.settle();
    cloud.identities.createUser('tess');
    const ims = ramClient(cloud, Ims);
    await ims.addUserToGroup(
      new $Ims.AddUserToGroupRequest({
        groupName: 'admins',
        userPrincipalName: `tess@${cloud.identities.accountId}.onaliyun.com`,
      }),
    );
    const records = await recordsAbout('AddUserToGroup', 'Group:admins');
    expect(records.map((r) => [r.decision, r.rules.map((f) => [f.ruleId, f.severity])])).toEqual([
      ['alerted', [['admin-policy-attached', 'critical']]],
    ]);
    expect(records[0]?.before?.member).toBe('tess');
  }, 60_000);
});
