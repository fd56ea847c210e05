import type { Severity } from '../severity';

/** Stable rule ids: tools, config keys and audit records rely on these strings never changing. */
export const POLICY_RULE_IDS = [
  'anonymous-principal',
  'public-write',
  'wildcard-action',
  'whole-bucket-resource',
  'no-https-condition',
  'no-source-restriction',
  'foreign-account-principal',
  'invalid-policy',
] as const;

export type PolicyRuleId = (typeof POLICY_RULE_IDS)[number];

export interface PolicyRuleInfo {
  /** Severity of a typical finding; `escalation` says when a finding is rated differently. */
  severity: Severity;
  summary: string;
  escalation?: string;
  docUrl: string;
}

const BUCKET_POLICY_DOC = 'https://www.alibabacloud.com/help/en/oss/user-guide/oss-bucket-policy/';
const BPA_DOC = 'https://www.alibabacloud.com/help/en/oss/user-guide/block-public-access';

export const POLICY_RULES: Readonly<Record<PolicyRuleId, PolicyRuleInfo>> = {
  'anonymous-principal': {
    severity: 'high',
    summary: 'Allow to "*" that no fixed VPC, AccessKey or source network pins: OSS calls it public',
    docUrl: BPA_DOC,
  },
  'public-write': {
    severity: 'critical',
    summary: 'anyone (Principal "*") may write, delete or reconfigure',
    escalation: 'high when a VPC, AccessKey or source network pins the callers',
    docUrl: BPA_DOC,
  },
  'wildcard-action': {
    severity: 'medium',
    summary:
      'an action wildcard reaches bucket administration (policy, ACL, deletion) or mixes reads and writes',
    escalation: 'high when granted outside the account; low when it only mixes reads and writes',
    docUrl: 'https://www.alibabacloud.com/help/en/oss/developer-reference/ram-policy-editor',
  },
  'whole-bucket-resource': {
    severity: 'low',
    summary: 'the grant covers every object ("*", "bucket/*", "*/*") where a prefix would do',
    docUrl: BUCKET_POLICY_DOC,
  },
  'no-https-condition': {
    severity: 'medium',
    summary: 'an Allow is usable over plain HTTP: no acs:SecureTransport condition and no Deny for HTTP',
    docUrl: 'https://www.alibabacloud.com/help/en/cloud-config/latest/oss-bucket-only-https-enabled',
  },
  'no-source-restriction': {
    severity: 'medium',
    summary: 'a grant outside the account is not limited by acs:SourceIp or acs:SourceVpc',
    docUrl: 'https://www.alibabacloud.com/help/en/cloud-config/latest/oss-bucket-authorize-specified-ip',
  },
  'foreign-account-principal': {
    severity: 'medium',
    summary: 'a principal is neither the owner account, a known RAM identity nor a trusted account',
    escalation: 'high when the grant includes writes',
    docUrl: 'https://www.alibabacloud.com/help/en/ram/identify-external-access',
  },
  'invalid-policy': {
    severity: 'high',
    summary: 'OSS would reject the policy, or it cannot be parsed or analysed, so it is never judged safe',
    escalation: 'medium where OSS may accept it: unknown elements, missing Version, non-OSS actions',
    docUrl: 'https://www.alibabacloud.com/help/en/oss/user-guide/authorization-syntax-and-elements',
  },
};

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
