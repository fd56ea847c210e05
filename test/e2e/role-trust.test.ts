import Ram, * as $Ram from '@alicloud/ram20150501';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TRUST_POLICY } from '../../deploy/role';
import { FUNCTION_ROLE, type LocalCloud } from '../../local/cloud';
import { trustPolicy } from '../../shared/deployment/role-policy';
import { auditRecords, ramClient, startCloud } from './local-cloud';

/**
 * The function role's trust, changed in the deploying account of a single-account deployment: a session of that
 * role is ossguard's own and not judged (shared/pipeline/dedupe.ts), so whoever its trust lets in acts unjudged.
 * The EventBridge path alone (F-EVENTBRIDGE-RAM-SOURCE): the trail's log trigger is switched off.
 */
describe('the trust of ossguard’s function role, watched from EventBridge', () => {
  let cloud: LocalCloud;
  let ram: Ram;

  const updateTrust = (roleName: string, document: string) =>
    ram.updateRole(new $Ram.UpdateRoleRequest({ roleName, newAssumeRolePolicyDocument: document }));
  /** role-trust-guard's records of calls on `roleName`: judged (its trust in `before`), or passed over. */
  const judged = async (roleName: string) => {
    await cloud.settle();
    return (await auditRecords(cloud)).filter(
      (r) =>
        r.guard === 'role-trust-guard' &&
        (r.before?.role === roleName || r.reason === `role ${roleName} is not a role ossguard acts as`),
    );
  };

  beforeAll(async () => {
    cloud = await startCloud();
    cloud.setTriggerEnabled('trail-guard', 'trail-logs', false);
    ram = ramClient(cloud, Ram);
  }, 60_000);
  afterAll(async () => {
    await cloud?.stop();
  });

  it('alerts, critical, when the function role is made to trust a RAM user too, naming the fix', async () => {
    const mallory = `acs:ram::${cloud.identities.accountId}:user/mallory`;
    const trust = JSON.parse(TRUST_POLICY) as { Statement: unknown[] };
    trust.Statement.push({ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { RAM: [mallory] } });
    await updateTrust(FUNCTION_ROLE, JSON.stringify(trust));
    const records = await judged(FUNCTION_ROLE);
    expect(records.map((r) => [r.decision, r.route])).toEqual([['alerted', 'access-key-guard']]);
    expect(records[0]?.rules.map((f) => [f.ruleId, f.severity])).toEqual([
      ['ossguard-role-trust-changed', 'critical'],
    ]);
    expect(records[0]?.rules[0]?.message).toContain(mallory);
    expect(records[0]?.rules[0]?.message).toContain('run `ossguard bootstrap`');
  }, 60_000);

  it('passes the function role trusted by Function Compute alone again, as bootstrap writes it', async () => {
    await updateTrust(FUNCTION_ROLE, TRUST_POLICY);
    const records = await judged(FUNCTION_ROLE);
    expect(records.map((r) => r.decision)).toEqual(['alerted', 'skipped']);
  }, 60_000);

  it('leaves the trust of another role to its owners', async () => {
    await ram.createRole(
      new $Ram.CreateRoleRequest({ roleName: 'app', assumeRolePolicyDocument: trustPolicy([]) }),
    );
    await updateTrust('app', trustPolicy([`acs:ram::${cloud.identities.accountId}:user/mallory`]));
    expect((await judged('app')).map((r) => r.decision)).toEqual(['skipped']);
  }, 60_000);

  it('alerts when the trust is widened and put back before either call is judged', async () => {
    const mallory = `acs:ram::${cloud.identities.accountId}:user/mallory`;
    const trust = JSON.parse(TRUST_POLICY) as { Statement: unknown[] };
    trust.Statement.push({ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { RAM: [mallory] } });
    const before = (await judged(FUNCTION_ROLE)).length;
    // Both calls land before the function judges either: a read of the live trust finds it restored.
    cloud.bus.pause();
    const published = cloud.bus.history().length;
    await updateTrust(FUNCTION_ROLE, JSON.stringify(trust));
    await updateTrust(FUNCTION_ROLE, TRUST_POLICY);
    cloud.bus.resume();
    const calls = cloud.bus.history().slice(published);
    expect((await cloud.bus.invoke('access-key-guard', JSON.stringify(calls))).ok).toBe(true);
    const records = (await judged(FUNCTION_ROLE)).slice(before);
    expect(records.map((r) => r.decision).sort()).toEqual(['alerted', 'skipped']);
    expect(records.find((r) => r.decision === 'alerted')?.rules[0]?.message).toContain(mallory);
  }, 60_000);
});
