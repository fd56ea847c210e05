import Ram, * as $Ram from '@alicloud/ram20150501';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local/cloud';
import { attachPolicy, auditRecords, ramClient, startCloud } from './local-cloud';

/**
 * RAM's ActionTrail events reach EventBridge (F-EVENTBRIDGE-RAM-SOURCE), so identity policies are judged without
 * the trail's log trigger too: here it is switched off, and only the EventBridge path is left.
 */
describe('identity policies judged from EventBridge alone', () => {
  let cloud: LocalCloud;
  let ram: Ram;

  beforeAll(async () => {
    cloud = await startCloud();
    cloud.setTriggerEnabled('trail-guard', 'trail-logs', false);
    ram = ramClient(cloud, Ram);
  }, 60_000);
  afterAll(async () => {
    await cloud?.stop();
  });

  it('detaches AliyunOSSFullAccess attached to a user, in enforce mode, with the trail-logs trigger switched off', async () => {
    cloud.setConfig({ rules: { 'broad-system-policy-attached': 'enforce' } });
    cloud.identities.createUser('eve');
    await attachPolicy(ram, { user: 'eve' }, 'AliyunOSSFullAccess');
    await cloud.settle();
    const records = (await auditRecords(cloud)).filter(
      (r) => r.guard === 'identity-policy-guard' && r.eventName === 'AttachPolicyToUser',
    );
    expect(records.map((r) => [r.decision, r.route])).toEqual([['remediated', 'access-key-guard']]);
    const held = await ram.listPoliciesForUser(new $Ram.ListPoliciesForUserRequest({ userName: 'eve' }));
    expect(held.body?.policies?.policy ?? []).toEqual([]);
  }, 60_000);

  it('alerts on a custom policy version made default that grants oss:* on every bucket', async () => {
    await ram.createPolicy(
      new $Ram.CreatePolicyRequest({
        policyName: 'eb-reader',
        policyDocument: JSON.stringify({
          Version: '1',
          Statement: [{ Effect: 'Allow', Action: 'oss:GetObject', Resource: 'acs:oss:*:*:logs/2026/*' }],
        }),
      }),
    );
    await ram.createPolicyVersion(
      new $Ram.CreatePolicyVersionRequest({
        policyName: 'eb-reader',
        setAsDefault: true,
        policyDocument: JSON.stringify({
          Version: '1',
          Statement: [{ Effect: 'Allow', Action: 'oss:*', Resource: 'acs:oss:*:*:*' }],
        }),
      }),
    );
    await cloud.settle();
    const records = (await auditRecords(cloud)).filter(
      (r) => r.guard === 'identity-policy-guard' && r.eventName === 'CreatePolicyVersion',
    );
    expect(records.map((r) => [r.decision, r.rules.map((f) => f.ruleId)])).toEqual([
      ['alerted', ['identity-policy-broad-oss']],
    ]);
  }, 60_000);
});
