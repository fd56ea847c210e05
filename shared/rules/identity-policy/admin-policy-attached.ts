import type { Rule } from '../types';
import { holderOf, IDENTITY_POLICY_RULE_BASE, type IdentityPolicySubject, principalOf } from './subject';

/**
 * AdministratorAccess (F-RAM-ADMINISTRATOR-ACCESS) grants every action of every service, OSS included.
 *
 * Alert only, by design, in every mode: it is how an account's administrators (and often its break-glass user
 * or its single sign-on role) hold their rights. Detaching it automatically could lock the people who run the
 * account out of it, the deployer of ossguard among them, while giving no protection against its holder, who
 * can attach it again or switch ossguard off. A person must decide, so the rule declares no remediation and
 * the guard never detaches it.
 */
export const adminPolicyAttached: Rule<IdentityPolicySubject> = {
  id: 'admin-policy-attached',
  order: 15,
  title: 'AdministratorAccess was attached to a RAM user, group or role',
  rationale:
    'AdministratorAccess allows every action on every resource: all of OSS, and RAM itself, so its holder can ' +
    'grant anything and switch any guard off. Keep it to a named few, with MFA, and grant others what they need.',
  docUrl:
    'https://www.alibabacloud.com/help/en/ram/use-cases/use-ram-to-manage-permissions-of-o-and-m-engineers',
  severity: 'critical',
  firesWhen:
    'the system policy `AdministratorAccess` is attached to a RAM user, user group or role (even if detached since), or a user joins a group holding it',
  ...IDENTITY_POLICY_RULE_BASE,
  readActions: ['ram:ListEntitiesForPolicy', 'ram:ListGroupsForUser', 'ram:ListPoliciesForGroup'],
  evaluate: (s) =>
    s.policyType === 'System' && s.policyName === 'AdministratorAccess' && s.attachedTo
      ? {
          ruleId: 'admin-policy-attached',
          severity: 'critical',
          message: `AdministratorAccess is held by ${holderOf(s.attachedTo, s)}: every action on every resource, OSS and RAM included`,
          evidence: {
            policy: s.policyName,
            attachedTo: principalOf(s.attachedTo),
            member: s.member ?? null,
            detachedSince: s.detachedSince ?? false,
          },
        }
      : undefined,
};
