import { POLICY_GUARD_EVENTS } from '../../events/names';
import type { StatementCheck } from '../../policy/statement';
import type { PolicyAnalysis, PolicyFinding } from '../../policy/types';
import type { Rule, RuleFinding } from '../types';

/** What the repair does is policy.mode's choice, not the rule's; restore also reads the audit bucket's snapshots. */
const REPAIR_BUCKET_POLICY = {
  id: 'repair-bucket-policy',
  description:
    'per policy.mode: restore the last policy that passed, strip the failing statements, or delete the policy',
  actions: ['oss:PutBucketPolicy', 'oss:DeleteBucketPolicy', 'oss:ListObjects', 'oss:GetObject'],
} as const;

/**
 * A bucket-policy rule. The analyser (shared/policy/analyse.ts) walks the registered policy rules in `order`
 * over each statement with `check`; a rule without one (invalid-policy) reports what the parser found.
 */
export interface PolicyRule extends Rule<PolicyAnalysis> {
  order: number;
  check?: StatementCheck;
}

const toRuleFinding = (f: PolicyFinding): RuleFinding => ({
  ruleId: f.rule,
  severity: f.severity,
  message: f.statement === null ? f.message : `statement ${f.statement}: ${f.message}`,
  evidence: { statement: f.statement, fix: f.fix },
});

/**
 * A policy rule from its own text and check. `evaluate` picks this rule's findings out of the analysis the
 * guard made. `defaultMode` is a fallback: the policy guard derives the mode from policy.mode.
 */
export function policyRule(
  rule: Pick<Rule<PolicyAnalysis>, 'id' | 'title' | 'rationale' | 'docUrl' | 'severity' | 'firesWhen'> & {
    severityNote?: string;
    order: number;
    check?: StatementCheck;
  },
): PolicyRule {
  return {
    ...rule,
    guard: 'oss-policy-guard',
    events: POLICY_GUARD_EVENTS,
    defaultMode: 'alert',
    readActions: ['oss:GetBucketPolicy', 'oss:GetBucketPolicyStatus', 'oss:GetBucketInfo'],
    remediation: REPAIR_BUCKET_POLICY,
    evaluate: (analysis) => analysis.findings.filter((f) => f.rule === rule.id).map(toRuleFinding),
  };
}
