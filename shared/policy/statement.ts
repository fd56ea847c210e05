import { pinsCaller } from './conditions';
import { describe, isRecord, type NormalStatement } from './parse-bucket-policy';
import type { PolicyContext, PolicyFinding } from './types';

/**
 * What the policy rules' statement checks (shared/rules/policy/*.ts) share: the judged statement's context,
 * and the helpers that say who a statement reaches and how to rewrite it.
 */
export interface StatementEnv {
  ctx: PolicyContext;
  /** Statements that deny every request not made over HTTPS, for the statements they cover. */
  httpsDenies: NormalStatement[];
  isInternal: (principal: string) => boolean;
}

/** What a statement check says: the analyser adds the rule id and the statement's index. */
export type Judgement = Pick<PolicyFinding, 'severity' | 'message' | 'fix'>;

/** Pure: one statement of a policy, judged by one rule. */
export type StatementCheck = (s: NormalStatement, env: StatementEnv) => Judgement | undefined;

/** Block Public Access: a principal with `*` is not a fixed value (https://www.alibabacloud.com/help/en/oss/user-guide/block-public-access). */
export const isAnyone = (principal: string): boolean => principal.includes('*');
export const grantsAnyone = (s: NormalStatement): boolean => s.principals.some(isAnyone);

/** `acs:ram::<uid>:…` and `arn:sts::<uid>:…` principals belong to account `<uid>` (the RAM ARN form). */
const ACCOUNT_IN_ARN = /^(?:acs:ram|arn:sts)::(\d+):/i;

/** The account a principal belongs to: an ARN's `<uid>`, else the principal itself (a UID). */
export const accountOf = (principal: string): string => ACCOUNT_IN_ARN.exec(principal)?.[1] ?? principal;

export const foreignPrincipals = (s: NormalStatement, env: StatementEnv): string[] =>
  s.principals.filter((p) => !isAnyone(p) && !env.isInternal(p));

export const grantsOutside = (s: NormalStatement, env: StatementEnv): boolean =>
  grantsAnyone(s) || foreignPrincipals(s, env).length > 0;

/** Per statement, exactly the Block Public Access test: Deny, fixed principals or a pinning condition. */
export const statementIsPublic = (s: NormalStatement): boolean =>
  s.effect === 'Allow' && grantsAnyone(s) && !pinsCaller(s.conditions);

export const list = (items: readonly string[]): string =>
  items.length <= 3 ? items.join(', ') : `${items.slice(0, 3).join(', ')} and ${items.length - 3} more`;

export const scope = (s: NormalStatement): string =>
  `${list(s.actions) || 'no action'} on ${list(s.resources) || 'no resource'}`;

export const json = describe;

/** The statement as written with `patch` applied, as JSON for a fix. */
export const rewrite = (s: NormalStatement, patch: Record<string, unknown>): string =>
  json({ ...s.raw, ...patch });

export const unique = (items: readonly string[]): string[] => [...new Set(items)];

export const bucketArn = (ctx: PolicyContext): string =>
  `acs:oss:*:${ctx.ownerAccountId || '*'}:${ctx.bucket || '<bucket>'}`;

/** The statement's conditions plus `extra`, merging operator blocks so existing keys survive. */
export function withCondition(
  s: NormalStatement,
  extra: Record<string, Record<string, string[]>>,
): Record<string, unknown> {
  const current = isRecord(s.raw.Condition) ? s.raw.Condition : {};
  const merged: Record<string, unknown> = { ...current };
  for (const [operator, keys] of Object.entries(extra)) {
    const existing = current[operator];
    merged[operator] = { ...(isRecord(existing) ? existing : {}), ...keys };
  }
  return merged;
}

export const VPC_PIN = { StringEquals: { 'acs:SourceVpc': ['vpc-<id>'] } };
export const INTERNET_PIN = {
  IpAddress: { 'acs:SourceIp': ['<CIDR, /8 or narrower>'] },
  StringNotLike: { 'acs:SourceVpc': ['vpc-*'] },
};
