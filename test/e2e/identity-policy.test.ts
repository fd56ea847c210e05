import { $OpenApiUtil } from '@alicloud/openapi-core';
import Ram, * as $Ram from '@alicloud/ram20150501';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local/cloud';
import type { AuditRecord } from '../../shared/audit/record';
import { auditRecords, startCloud } from './local-cloud';

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
    ram = new Ram(
      new $OpenApiUtil.Config({
        ...cloud.identities.rootKey,
        endpoint: new URL(cloud.endpoints.ram).host,
        protocol: 'http',
        regionId: 'cn-shanghai',
      }),
    );
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

  const attachedTo = async (userName: string) =>
    (
      await ram.listPoliciesForUser(new $Ram.ListPoliciesForUserRequest({ userName }))
    ).body?.policies?.policy?.map((p) => p.policyName) ?? [];

  it('alerts when AliyunOSSFullAccess is attached to a user, and leaves it in alert mode', async () => {
    cloud.identities.createUser('pat');
    await ram.attachPolicyToUser(
      new $Ram.AttachPolicyToUserRequest({
        policyType: 'System',
        policyName: 'AliyunOSSFullAccess',
        userName: 'pat',
      }),
    );
    const record = await decision('AttachPolicyToUser', 'AliyunOSSFullAccess');
    expect(record.decision).toBe('alerted');
    expect(record.rules.map((f) => f.ruleId)).toEqual(['broad-system-policy-attached']);
    expect(await attachedTo('pat')).toEqual(['AliyunOSSFullAccess']);
  }, 60_000);

  it('detaches AliyunOSSFullAccess from a user in enforce mode', async () => {
    cloud.setConfig({ rules: { 'broad-system-policy-attached': 'enforce' } });
    cloud.identities.createUser('quinn');
    await ram.attachPolicyToUser(
      new $Ram.AttachPolicyToUserRequest({
        policyType: 'System',
        policyName: 'AliyunOSSFullAccess',
        userName: 'quinn',
      }),
    );
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
});
