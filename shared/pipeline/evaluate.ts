import type { OssguardConfig } from '../config/schema';
import { findingsOf } from '../rules';
import type { Rule, RuleMode } from '../rules/types';
import type { ModedFinding } from './types';

/** Applies each rule to the subject and attaches the configured mode; rules switched off drop out. Pure. */
export function evaluateRules<Subject>(
  rules: readonly Rule<Subject>[],
  subject: Subject,
  config: OssguardConfig,
  defaultMode?: (rule: Rule<Subject>) => RuleMode,
): ModedFinding[] {
  const findings: ModedFinding[] = [];
  for (const rule of rules) {
    const mode = config.rules[rule.id] ?? defaultMode?.(rule) ?? rule.defaultMode;
    if (mode === 'off') continue;
    for (const finding of findingsOf(rule, subject)) findings.push({ ...finding, mode });
  }
  return findings;
}
