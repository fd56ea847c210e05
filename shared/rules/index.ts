import * as discovered from './registry.generated';
import type { GuardName, Rule, RuleFinding } from './types';

export type { AclSubject, BucketAcl, ObjectAcl } from './acl/subject';
export type { ConsoleUserSubject } from './console-mfa/console-user-without-mfa';
export type { IdentityPolicySubject } from './identity-policy/subject';
export type { StaleKeySubject } from './key-hygiene/subject';
export type { KeyUseSubject } from './key-use/subject';
export type { KeySubject } from './keys/subject';
export type { PolicyRule } from './policy/rule';
export type { PolicyChangeSubject } from './policy-change/subject';
export type { RoleTrustSubject } from './role-trust/subject';
export type { GuardName, Rule, RuleFinding, RuleMode } from './types';
export type { UserTagSubject } from './user-tags/subject';

/** By `order`, then id: rules without an order come after those with one. */
const byOrder = <R extends Rule<never>>(rules: readonly R[]): readonly R[] =>
  [...rules].sort(
    (a, b) =>
      (a.order ?? Number.MAX_SAFE_INTEGER) - (b.order ?? Number.MAX_SAFE_INTEGER) || a.id.localeCompare(b.id),
  );

/*
 * The rule files under shared/rules/<kind>/, found by scripts/gen-rules-registry.mjs: a new rule is its file
 * and its `.cases.ts` table, nothing else.
 */
export const aclRules = byOrder(discovered.aclRules);
export const keyRules = byOrder(discovered.keyRules);
/** The analyser (shared/policy/analyse.ts) runs their statement checks in this order. */
export const policyRules = byOrder(discovered.policyRules);

export const leakRules = byOrder(discovered.leakRules);
export const keyUseRules = byOrder(discovered.keyUseRules);
export const keyHygieneRules = byOrder(discovered.keyHygieneRules);
export const identityPolicyRules = byOrder(discovered.identityPolicyRules);
export const consoleMfaRules = byOrder(discovered.consoleMfaRules);
/** Judge a policy change against the bucket's last passing policy, and exception tags set (oss-policy-guard). */
export const policyChangeRules = byOrder(discovered.policyChangeRules);
/** Exception tags set on RAM users (user-tag-guard). */
export const userTagRules = byOrder(discovered.userTagRules);
/** The trust of the roles ossguard acts as (role-trust-guard). */
export const roleTrustRules = byOrder(discovered.roleTrustRules);

/**
 * Every rule of every kind folder, for config validation, docs, the role-policy conformance test and the CLI:
 * a new kind folder is registered here without an edit.
 */
export const registry: readonly Rule<never>[] = registerAll(
  byOrder(Object.values(discovered).flat() as readonly Rule<never>[]),
);

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
