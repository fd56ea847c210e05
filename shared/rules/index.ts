import { accountBpaDisabled } from './acl/account-bpa-disabled';
import { bucketAclPublicRead } from './acl/bucket-acl-public-read';
import { bucketAclPublicReadWrite } from './acl/bucket-acl-public-read-write';
import { bucketBpaDisabled } from './acl/bucket-bpa-disabled';
import { objectAclPublic } from './acl/object-acl-public';
import type { AclSubject } from './acl/subject';
import { consoleUserKey } from './keys/console-user-key';
import { keyForOtherUser } from './keys/key-for-other-user';
import { multipleActiveKeys } from './keys/multiple-active-keys';
import { noMfa } from './keys/no-mfa';
import { rootAccessKey } from './keys/root-access-key';
import type { KeySubject } from './keys/subject';
import { untrustedSource } from './keys/untrusted-source';
import { policyRules } from './policy';
import type { PolicyChangeSubject } from './policy/change';
import { exceptionTagSet } from './policy/exception-tag-set';
import { policyDenyRemoved } from './policy/policy-deny-removed';
import type { GuardName, Rule, RuleFinding } from './types';

export type { AclSubject, BucketAcl, ObjectAcl } from './acl/subject';
export type { KeySubject } from './keys/subject';
export { policyRules } from './policy';
export type { PolicyChangeSubject } from './policy/change';
export type { GuardName, Rule, RuleFinding, RuleMode } from './types';

export const aclRules: readonly Rule<AclSubject>[] = [
  bucketAclPublicRead,
  bucketAclPublicReadWrite,
  objectAclPublic,
  bucketBpaDisabled,
  accountBpaDisabled,
];

export const keyRules: readonly Rule<KeySubject>[] = [
  rootAccessKey,
  keyForOtherUser,
  noMfa,
  untrustedSource,
  multipleActiveKeys,
  consoleUserKey,
];

/** Every rule, for config validation, docs, the role-policy conformance test and the CLI. */
/** Rules that judge a policy change against the last policy of the bucket that passed. */
export const policyChangeRules: readonly Rule<PolicyChangeSubject>[] = [policyDenyRemoved, exceptionTagSet];

export const registry: readonly Rule<never>[] = registerAll([
  ...aclRules,
  ...keyRules,
  ...policyRules,
  ...policyChangeRules,
]);

function registerAll(rules: readonly Rule<never>[]): readonly Rule<never>[] {
  const seen = new Set<string>();
  for (const rule of rules) {
    if (seen.has(rule.id)) throw new Error(`duplicate rule id ${rule.id}`);
    seen.add(rule.id);
  }
  return rules;
}

export const ruleIds = (): string[] => registry.map((rule) => rule.id);

export const rulesOf = (guard: GuardName): readonly Rule<never>[] =>
  registry.filter((r) => r.guard === guard);

export const findRule = (id: string): Rule<never> | undefined => registry.find((rule) => rule.id === id);

/** A rule's findings as a list, whichever of the three shapes `evaluate` returned. */
export function findingsOf<Subject>(rule: Rule<Subject>, subject: Subject): readonly RuleFinding[] {
  const found = rule.evaluate(subject);
  if (found === undefined) return [];
  return Array.isArray(found) ? found : [found as RuleFinding];
}
