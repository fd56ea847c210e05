import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../shared/config/load';
import { parseEvents } from '../../shared/events/parse-actiontrail-events';
import type { ChangeRecord } from '../../shared/events/types';
import { identityPolicyGuard } from '../../shared/guards/identity-policy';
import { createLogger } from '../../shared/log';

const ALL_OSS = JSON.stringify({
  Version: '1',
  Statement: [{ Effect: 'Allow', Action: 'oss:*', Resource: '*' }],
});
const context = (yaml: string) => ({
  config: parseConfig(`audit: {bucket: corp-audit}\n${yaml}`),
  now: new Date('2026-12-06T10:00:00Z'),
  log: createLogger({ guard: 'test' }),
});

function change(eventName: string, requestParameters: Record<string, string>): ChangeRecord {
  const [item] = parseEvents([
    {
      eventId: `ev-${eventName}`,
      eventVersion: 1,
      eventName,
      eventSource: 'ram.aliyuncs.com',
      serviceName: 'Ram',
      acsRegion: 'cn-shanghai',
      eventTime: '2026-12-06T09:59:00Z',
      userIdentity: { type: 'ram-user', userName: 'admin', accessKeyId: 'LTAI5tAdminExampleKey' },
      requestParameters: { ...requestParameters, PolicyDocument: '{"Statement":[]}' },
    },
  ]);
  if (item?.kind !== 'change') throw new Error('no change');
  return item.record;
}

describe('what identity-policy-guard decides', () => {
  it('keeps the policy names of a record but never its document', () => {
    const c = change('CreatePolicy', { PolicyName: 'all-of-oss' });
    expect(c.requestParameters).toEqual({ PolicyName: 'all-of-oss' });
  });

  it('only alerts on a new custom policy, even in enforce mode, with the narrower statement as advice', () => {
    const c = context('rules: {identity-policy-broad-oss: enforce}');
    const evaluation = identityPolicyGuard.evaluate(
      change('CreatePolicy', { PolicyName: 'all-of-oss' }),
      { subjects: [{ policyName: 'all-of-oss', policyType: 'Custom', versionId: 'v1', document: ALL_OSS }] },
      c,
    );
    expect(evaluation.findings.map((f) => [f.ruleId, f.mode])).toEqual([
      ['identity-policy-broad-oss', 'alert'],
    ]);
    expect(evaluation.fix).toBeUndefined();
    expect(evaluation.advice?.[0]).toMatch(/^Grant instead: \{"Effect":"Allow","Action":\["oss:GetObject"/);
  });

  it('rolls a broad default version back to the previous one, as its fix, in enforce mode', () => {
    const c = context('rules: {identity-policy-broad-oss: enforce}');
    const evaluation = identityPolicyGuard.evaluate(
      change('CreatePolicyVersion', { PolicyName: 'reader', SetAsDefault: 'true' }),
      {
        subjects: [{ policyName: 'reader', policyType: 'Custom', versionId: 'v2', document: ALL_OSS }],
        fix: {
          description: 'set version v1 of reader back as default',
          action: {
            kind: 'set-default-policy-version',
            policyName: 'reader',
            versionId: 'v1',
            replaces: 'v2',
          },
          after: { defaultVersion: 'v1' },
        },
      },
      c,
    );
    expect(evaluation.findings.map((f) => f.mode)).toEqual(['enforce']);
    expect(evaluation.fix?.actions).toEqual([
      { kind: 'set-default-policy-version', policyName: 'reader', versionId: 'v1', replaces: 'v2' },
    ]);
  });

  it('honours a user exception for a system policy attached to that user', () => {
    const c = context(
      'rules: {broad-system-policy-attached: enforce}\nexceptions: {users: [{user: "ops-*", reason: "break-glass administrators"}]}',
    );
    const evaluation = identityPolicyGuard.evaluate(
      change('AttachPolicyToUser', {
        PolicyName: 'AliyunOSSFullAccess',
        PolicyType: 'System',
        UserName: 'ops-1',
      }),
      {
        subjects: [
          {
            policyName: 'AliyunOSSFullAccess',
            policyType: 'System',
            attachedTo: { kind: 'User', name: 'ops-1' },
          },
        ],
        holder: { attachedTo: { kind: 'User', name: 'ops-1' } },
      },
      c,
    );
    expect(evaluation.exceptions.applied?.match).toBe('ops-*');
  });

  const systemAttach = (policyName: string, kind: 'User' | 'Group' | 'Role', name: string) => ({
    subjects: [{ policyName, policyType: 'System' as const, attachedTo: { kind, name } }],
    holder: { attachedTo: { kind, name } },
    fix: {
      description: `detach ${policyName}`,
      action: {
        kind: 'detach-policy' as const,
        principal: { kind, name },
        policyType: 'System' as const,
        policyName,
      },
      after: { attached: 'false' },
    },
  });

  it('never detaches AdministratorAccess, even set to enforce: the rule declares no remediation', () => {
    const evaluation = identityPolicyGuard.evaluate(
      change('AttachPolicyToGroup', {
        PolicyName: 'AdministratorAccess',
        PolicyType: 'System',
        GroupName: 'ops',
      }),
      systemAttach('AdministratorAccess', 'Group', 'ops'),
      context('rules: {admin-policy-attached: enforce}'),
    );
    expect(evaluation.findings.map((f) => [f.ruleId, f.severity, f.mode])).toEqual([
      ['admin-policy-attached', 'critical', 'alert'],
    ]);
  });

  const roleAttach = (roleName: string) =>
    identityPolicyGuard.evaluate(
      change('AttachPolicyToRole', {
        PolicyName: 'AliyunOSSFullAccess',
        PolicyType: 'System',
        RoleName: roleName,
      }),
      systemAttach('AliyunOSSFullAccess', 'Role', roleName),
      context('rules: {broad-system-policy-attached: enforce}'),
    );

  it("never detaches a policy from ossguard's own role, spelled as RAM lists it", () => {
    const evaluation = roleAttach('ossguard-fn');
    expect(evaluation.fix).toBeUndefined();
    expect(evaluation.findings.map((f) => f.mode)).toEqual(['alert']);
    expect(evaluation.alertReason).toMatch(/never detached from ossguard's own role/);
  });

  it("detaches a policy from another role RAM lists under a spelling of ossguard's role in another case", () => {
    const evaluation = roleAttach('OSSGUARD-FN');
    expect(evaluation.fix?.actions).toHaveLength(1);
    expect(evaluation.findings.map((f) => f.mode)).toEqual(['enforce']);
  });

  it('only alerts when a user joins a group holding AliyunOSSFullAccess, even in enforce mode, naming the user', () => {
    const group = { kind: 'Group' as const, name: 'storage' };
    const evaluation = identityPolicyGuard.evaluate(
      change('AddUserToGroup', { GroupName: 'storage', UserName: 'rex' }),
      {
        subjects: [
          { policyName: 'AliyunOSSFullAccess', policyType: 'System', attachedTo: group, member: 'rex' },
          { policyName: 'ReadOnlyAccess', policyType: 'System', attachedTo: group, member: 'rex' },
        ],
        holder: { attachedTo: group, member: 'rex' },
      },
      context('rules: {broad-system-policy-attached: enforce}'),
    );
    expect(evaluation.fix).toBeUndefined();
    expect(evaluation.findings.map((f) => [f.ruleId, f.mode])).toEqual([
      ['broad-system-policy-attached', 'alert'],
    ]);
    expect(evaluation.findings[0]?.message).toContain('RAM user group storage, which RAM user rex joined');
    expect(evaluation.before).toMatchObject({ attachedTo: 'Group:storage', member: 'rex' });
  });
});
