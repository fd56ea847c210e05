import type { Rule } from '../types';
import { holderOf, IDENTITY_POLICY_RULE_BASE, type IdentityPolicySubject, principalOf } from './subject';

/** System policies that give their holder every OSS permission on every bucket. */
const BROAD_SYSTEM_POLICIES: ReadonlySet<string> = new Set(['AliyunOSSFullAccess']);

/**
 * A user holds it for every key the user has; a group, for every member's; a role, for every session's STS
 * credentials (an instance or a function that assumes it). Detaching it is safe to automate: it takes OSS
 * rights only, which a custom policy should grant instead; the guard never detaches it from ossguard's own
 * role (shared/guards/identity-policy.ts).
 */
export const broadSystemPolicyAttached: Rule<IdentityPolicySubject> = {
  id: 'broad-system-policy-attached',
  order: 20,
  title: 'A system policy granting all of OSS was attached to a RAM user, group or role',
  rationale:
    'AliyunOSSFullAccess gives its holder, every key of a user or group member and every session of a role, ' +
    'every OSS action on every bucket. Grant a custom policy with the actions and buckets needed instead.',
  docUrl: 'https://www.alibabacloud.com/help/en/oss/user-guide/reduce-the-risks-of-leaking-accesskey-pairs',
  severity: 'high',
  firesWhen:
    '`AliyunOSSFullAccess` is attached to a RAM user, user group or role (alert only when detached since), or a user joins a group holding it (alert only)',
  ...IDENTITY_POLICY_RULE_BASE,
  readActions: ['ram:ListEntitiesForPolicy', 'ram:ListGroupsForUser', 'ram:ListPoliciesForGroup'],
  remediation: {
    id: 'detach-policy',
    description:
      'detach the system policy from the user, group or role (never from ossguard’s own role: alert only)',
    actions: ['ram:DetachPolicyFromUser', 'ram:DetachPolicyFromGroup', 'ram:DetachPolicyFromRole'],
  },
  evaluate: (s) =>
    s.policyType === 'System' && BROAD_SYSTEM_POLICIES.has(s.policyName) && s.attachedTo
      ? {
          ruleId: 'broad-system-policy-attached',
          severity: 'high',
          message: `system policy ${s.policyName} is held by ${holderOf(s.attachedTo, s)}: every OSS action on every bucket`,
          evidence: {
            policy: s.policyName,
            attachedTo: principalOf(s.attachedTo),
            member: s.member ?? null,
            detachedSince: s.detachedSince ?? false,
          },
        }
      : undefined,
};
