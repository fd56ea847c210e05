import type { Rule } from '../types';
import { IDENTITY_POLICY_RULE_BASE, type IdentityPolicySubject } from './subject';

/** System policies that give a user every OSS permission on every bucket. */
const BROAD_SYSTEM_POLICIES: ReadonlySet<string> = new Set(['AliyunOSSFullAccess']);

export const broadSystemPolicyAttached: Rule<IdentityPolicySubject> = {
  id: 'broad-system-policy-attached',
  order: 20,
  title: 'A system policy granting all of OSS was attached to a RAM user',
  rationale:
    'AliyunOSSFullAccess gives the user, and every key the user holds, every OSS action on every bucket. Users ' +
    'should get a custom policy with the actions and buckets they need.',
  docUrl: 'https://www.alibabacloud.com/help/en/oss/user-guide/reduce-the-risks-of-leaking-accesskey-pairs',
  severity: 'high',
  firesWhen: '`AliyunOSSFullAccess` is attached to a RAM user (and still is)',
  ...IDENTITY_POLICY_RULE_BASE,
  readActions: ['ram:ListPoliciesForUser'],
  remediation: {
    id: 'detach-policy-from-user',
    description: 'detach the system policy from the user',
    actions: ['ram:DetachPolicyFromUser'],
  },
  evaluate: (s) =>
    s.policyType === 'System' && BROAD_SYSTEM_POLICIES.has(s.policyName) && s.attachedTo?.kind === 'User'
      ? {
          ruleId: 'broad-system-policy-attached',
          severity: 'high',
          message: `system policy ${s.policyName} was attached to RAM user ${s.attachedTo.name}: every OSS action on every bucket`,
          evidence: { policy: s.policyName, user: s.attachedTo.name },
        }
      : undefined,
};
