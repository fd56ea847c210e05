import type { Severity } from '../severity';

export type RuleMode = 'enforce' | 'alert' | 'off';
export type GuardName =
  | 'oss-acl-guard'
  | 'oss-policy-guard'
  | 'access-key-guard'
  | 'key-usage-guard'
  | 'key-hygiene-guard'
  | 'identity-policy-guard'
  | 'console-mfa-guard'
  | 'user-tag-guard'
  | 'role-trust-guard';

/** What a rule says about one resource. `evidence` is what the audit record keeps; it holds no secrets. */
export interface RuleFinding {
  ruleId: string;
  severity: Severity;
  message: string;
  evidence: Record<string, string | number | boolean | null>;
}

/**
 * One rule: declarative metadata plus a pure `evaluate` over live state that the guard read. Rules never do
 * I/O; the guard re-reads state, rules judge it, actions (declared by id) change it.
 */
export interface Rule<Subject> {
  /** Stable kebab-case id, used in config, audit records and alerts. */
  id: string;
  title: string;
  /** Why it matters, in one or two sentences. */
  rationale: string;
  /** The Alibaba Cloud document the rule rests on. */
  docUrl: string;
  severity: Severity;
  /** When the rule fires, in one line: the README's rules tables are rendered from it (`npm run docs:rules`). */
  firesWhen: string;
  /** How the finding's severity varies, when it does (`high (critical for public-read-write)`). */
  severityNote?: string;
  guard: GuardName;
  /**
   * The ActionTrail events after which the guard re-reads the state this rule judges: a subset of its guard's
   * events (shared/events/names.ts, which s.yaml's EventBridge filters and trail-guard's routing follow).
   */
  events?: readonly string[];
  /**
   * Where the rule stands among its guard's rules: README tables, findings and the policy analyser's
   * statement checks follow it. Rules without one come last, by id.
   */
  order?: number;
  /** The mode used when the config does not name the rule. */
  defaultMode: RuleMode;
  /** RAM actions needed to read the state the rule evaluates. */
  readActions: readonly string[];
  /** The remediation the guard applies in `enforce` mode, and the RAM actions it needs; absent: alert only. */
  remediation?: { id: string; description: string; actions: readonly string[] };
  /** Pure. Rules that judge parts of a resource (policy statements) may return several findings. */
  evaluate(subject: Subject): RuleFinding | readonly RuleFinding[] | undefined;
}

/**
 * A rule's table of cases, in `<rule>.cases.ts` beside the rule: states it must fire on and states it must
 * stay silent on. The registry meta-test (test/unit/rule-cases.test.ts) walks every rule through its table.
 */
export interface RuleCases<Subject> {
  rule: Rule<Subject>;
  fires: ReadonlyArray<{ name: string; subject: Subject }>;
  silent: ReadonlyArray<{ name: string; subject: Subject }>;
}
