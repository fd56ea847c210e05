/// <reference types="vite/client" />
import { describe, expect, it } from 'vitest';
import { findingsOf, registry } from '../../shared/rules';
import type { Rule, RuleCases } from '../../shared/rules/types';

/** Every `<rule>.cases.ts` beside the rules: the registry's tables of good and bad states. */
const tables = Object.entries(
  import.meta.glob<{ cases: RuleCases<never> }>('../../shared/rules/**/*.cases.ts', { eager: true }),
).flatMap(([file, module]) => (module.cases ? [{ file, cases: module.cases }] : []));

const tableOf = (rule: Rule<never>) => tables.find((t) => t.cases.rule.id === rule.id)?.cases;

describe('the rule registry', () => {
  it.each(registry.map((rule) => [rule.id, rule] as const))('gives %s a table of cases', (_id, rule) => {
    const table = tableOf(rule);
    expect(table, `add shared/rules/<kind>/${rule.id}.cases.ts exporting \`cases\``).toBeDefined();
    expect(table?.fires.length).toBeGreaterThan(0);
    expect(table?.silent.length).toBeGreaterThan(0);
  });

  it('holds every rule that has a table', () => {
    const ids = new Set(registry.map((rule) => rule.id));
    expect(tables.map((t) => t.cases.rule.id).filter((id) => !ids.has(id))).toEqual([]);
  });
});

describe.each(tables.map((t) => [t.cases.rule.id, t.cases] as const))('rule %s', (_id, table) => {
  it.each(table.fires.map((c) => [c.name, c.subject] as const))('fires on %s', (_name, subject) => {
    const findings = findingsOf(table.rule, subject);
    expect(findings.length).toBeGreaterThan(0);
    for (const finding of findings) expect(finding.ruleId).toBe(table.rule.id);
  });

  it.each(table.silent.map((c) => [c.name, c.subject] as const))('stays silent on %s', (_name, subject) => {
    expect(findingsOf(table.rule, subject)).toEqual([]);
  });
});
