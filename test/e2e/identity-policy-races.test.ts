import Ram, * as $Ram from '@alicloud/ram20150501';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local/cloud';
import { auditRecords, ramClient, startCloud } from './local-cloud';

const ALL_OSS = JSON.stringify({
  Version: '1',
  Statement: [{ Effect: 'Allow', Action: 'oss:*', Resource: 'acs:oss:*:*:*' }],
});
const READ = (prefix: string) =>
  JSON.stringify({
    Version: '1',
    Statement: [{ Effect: 'Allow', Action: ['oss:GetObject'], Resource: [`acs:oss:*:*:${prefix}/*`] }],
  });

describe('identity-policy-guard when the owner changes a policy while ossguard repairs it', () => {
  let cloud: LocalCloud;
  let ram: Ram;
  /** Set once the broad version is made default; then ossguard's read of v1 (the rollback target) is held. */
  let armed = false;
  /** Resolved when ossguard reads the version it would roll back to: the owner acts in that gap. */
  let judging: () => void = () => undefined;
  const judged = new Promise<void>((resolve) => {
    judging = resolve;
  });

  beforeAll(async () => {
    cloud = await startCloud(
      { rules: { 'identity-policy-broad-oss': 'enforce' } },
      {
        // ossguard's read of v1 of `raced` (the rollback target) is held a while, once.
        ramIntercept: ({ action, params }) => {
          if (
            !armed ||
            action !== 'GetPolicyVersion' ||
            params.PolicyName !== 'raced' ||
            params.VersionId !== 'v1'
          )
            return undefined;
          armed = false;
          judging();
          return { delayMs: 1500 };
        },
      },
    );
    ram = ramClient(cloud, Ram);
  }, 60_000);
  afterAll(async () => {
    await cloud?.stop();
  });

  it("leaves the owner's new default version standing when it lands between ossguard's read and its rollback", async () => {
    await ram.createPolicy(new $Ram.CreatePolicyRequest({ policyName: 'raced', policyDocument: READ('a') }));
    await cloud.settle();
    await ram.createPolicyVersion(
      new $Ram.CreatePolicyVersionRequest({
        policyName: 'raced',
        policyDocument: ALL_OSS,
        setAsDefault: true,
      }),
    );
    armed = true;
    const settled = cloud.settle();
    await judged;
    await ram.createPolicyVersion(
      new $Ram.CreatePolicyVersionRequest({
        policyName: 'raced',
        policyDocument: READ('b'),
        setAsDefault: true,
      }),
    );
    await settled;
    await cloud.settle();
    const policy = await ram.getPolicy(
      new $Ram.GetPolicyRequest({ policyName: 'raced', policyType: 'Custom' }),
    );
    expect(policy.body?.policy?.defaultVersion).toBe('v3');
    // The refused rollback is retried, judged again on the live default (v3, narrow) and left alone.
    const decisions = (await auditRecords(cloud))
      .filter((r) => r.eventName === 'CreatePolicyVersion')
      .map((r) => r.decision);
    expect(decisions).not.toContain('remediated');
  }, 60_000);
});
