import type { Severity } from '../severity';

/**
 * A policy rule's id: the rules are the files of shared/rules/policy/, each with its id, severity and check.
 * Tools, config keys and audit records rely on ids never changing.
 */
export type PolicyRuleId = string;

/** The rule whose findings the parser reports: what OSS would reject, or what cannot be read. */
export const INVALID_POLICY = 'invalid-policy';

/** `statement` is the index in the policy's Statement list, or null for the policy as a whole. */
export interface PolicyFinding {
  rule: PolicyRuleId;
  severity: Severity;
  statement: number | null;
  message: string;
  fix: string;
}

/**
 * Who is inside the zone of trust. A RAM user's UID looks exactly like an account UID, so the owner's RAM
 * users and roles are internal only when listed in `knownPrincipals`; any other fixed UID is foreign unless
 * it is the owner account or a trusted account. ARN principals (`acs:ram::<uid>:…`) belong to `<uid>`.
 * An empty `ownerAccountId` means "unknown": then every fixed principal not listed counts as foreign.
 */
export interface PolicyContext {
  bucket: string;
  ownerAccountId: string;
  trustedAccounts?: readonly string[];
  knownPrincipals?: readonly string[];
}

export interface PolicyAnalysis {
  /** Whether OSS Block Public Access (GetBucketPolicyStatus) would call the policy public. */
  public: boolean;
  /** False when any invalid-policy finding exists. */
  valid: boolean;
  findings: PolicyFinding[];
  statements: number;
}
