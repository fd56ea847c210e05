import { accountBpaDisabled } from './acl/account-bpa-disabled';
import { bucketAclPublicRead } from './acl/bucket-acl-public-read';
import { bucketAclPublicReadWrite } from './acl/bucket-acl-public-read-write';
import { bucketBpaDisabled } from './acl/bucket-bpa-disabled';
import { objectAclPublic } from './acl/object-acl-public';
import type { AclSubject } from './acl/subject';
import { accessKeyTooOld } from './identity/access-key-too-old';
import { accessKeyUnused } from './identity/access-key-unused';
import { broadSystemPolicyAttached } from './identity/broad-system-policy-attached';
import { consoleSigninWithoutMfa } from './identity/console-signin-without-mfa';
import { type ConsoleUserSubject, consoleUserWithoutMfa } from './identity/console-user-without-mfa';
import { identityPolicyBroadOss } from './identity/identity-policy-broad-oss';
import type { IdentityPolicySubject } from './identity/identity-policy-subject';
import { keyUsedOutsideNetwork } from './identity/key-used-outside-network';
import { rootKeyInUse } from './identity/root-key-in-use';
import type { StaleKeySubject } from './identity/stale-key-subject';
import type { KeyUseSubject } from './identity/subject';
import { consoleUserKey } from './keys/console-user-key';
import { keyForOtherUser } from './keys/key-for-other-user';
import { multipleActiveKeys } from './keys/multiple-active-keys';
import { noMfa } from './keys/no-mfa';
import { rootAccessKey } from './keys/root-access-key';
import type { KeySubject } from './keys/subject';
import { untrustedSource } from './keys/untrusted-source';
import { policyRules } from './policy';
import type { GuardName, Rule, RuleFinding } from './types';

export type { AclSubject, BucketAcl, ObjectAcl } from './acl/subject';
export type { ConsoleUserSubject } from './identity/console-user-without-mfa';
export type { IdentityPolicySubject } from './identity/identity-policy-subject';
export type { StaleKeySubject } from './identity/stale-key-subject';
export type { KeyUseSubject } from './identity/subject';
export type { KeySubject } from './keys/subject';
export { policyRules } from './policy';
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

export const keyUseRules: readonly Rule<KeyUseSubject>[] = [
  rootKeyInUse,
  keyUsedOutsideNetwork,
  consoleSigninWithoutMfa,
];

export const staleKeyRules: readonly Rule<StaleKeySubject>[] = [accessKeyTooOld, accessKeyUnused];

export const identityPolicyRules: readonly Rule<IdentityPolicySubject>[] = [
  identityPolicyBroadOss,
  broadSystemPolicyAttached,
];

export const consoleUserRules: readonly Rule<ConsoleUserSubject>[] = [consoleUserWithoutMfa];

/** Every rule, for config validation, docs, the role-policy conformance test and the CLI. */
export const registry: readonly Rule<never>[] = registerAll([
  ...aclRules,
  ...keyRules,
  ...policyRules,
  ...keyUseRules,
  ...staleKeyRules,
  ...identityPolicyRules,
  ...consoleUserRules,
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
