import { POLICY_RULES, type PolicyAnalysis, type PolicyFinding, type PolicyRuleId } from '../../policy/types';
import type { Rule, RuleFinding } from '../types';

/** What the repair does is policy.mode's choice, not the rule's; restore also reads the audit bucket's snapshots. */
const REPAIR_BUCKET_POLICY = {
  id: 'repair-bucket-policy',
  description:
    'per policy.mode: restore the last policy that passed, strip the failing statements, or delete the policy',
  actions: ['oss:PutBucketPolicy', 'oss:DeleteBucketPolicy', 'oss:ListObjects', 'oss:GetObject'],
} as const;

const toRuleFinding = (f: PolicyFinding): RuleFinding => ({
  ruleId: f.rule,
  severity: f.severity,
  message: f.statement === null ? f.message : `statement ${f.statement}: ${f.message}`,
  evidence: { statement: f.statement, fix: f.fix },
});

/**
 * A registry entry for one analyser rule. The analyser (shared/policy) judges the whole policy at once, so
 * `evaluate` only picks this rule's findings out of the analysis. `defaultMode` is a fallback: the policy
 * guard derives the mode from policy.mode.
 */
export function policyRule(
  id: PolicyRuleId,
  text: { title: string; rationale: string; firesWhen: string; severityNote?: string },
): Rule<PolicyAnalysis> {
  const { severity, docUrl } = POLICY_RULES[id];
  return {
    id,
    ...text,
    docUrl,
    severity,
    guard: 'oss-policy-guard',
    defaultMode: 'alert',
    readActions: ['oss:GetBucketPolicy', 'oss:GetBucketPolicyStatus', 'oss:GetBucketInfo'],
    remediation: REPAIR_BUCKET_POLICY,
    evaluate: (analysis) => analysis.findings.filter((f) => f.rule === id).map(toRuleFinding),
  };
}
