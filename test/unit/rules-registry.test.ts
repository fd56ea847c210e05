/// <reference types="vite/client" />
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { REGISTRY_FILE, renderRegistry } from '../../scripts/gen-rules-registry.mjs';
import { aclGuard } from '../../shared/guards/acl';
import { keyGuard } from '../../shared/guards/keys';
import { policyGuard } from '../../shared/guards/policy';
import { registry, rulesOf } from '../../shared/rules';

/** Every module under shared/rules/<kind>/ but the case tables: rule files and their helpers. */
const modules = Object.entries(
  import.meta.glob<Record<string, unknown>>(['../../shared/rules/*/*.ts', '!**/*.cases.ts'], { eager: true }),
);

const looksLikeRule = (value: unknown): value is { id: string } =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as { id?: unknown }).id === 'string' &&
  typeof (value as { guard?: unknown }).guard === 'string' &&
  typeof (value as { evaluate?: unknown }).evaluate === 'function';

describe('the rule registry', () => {
  it('is the file scripts/gen-rules-registry.mjs writes from the rule files now (`npm run gen:rules`)', () => {
    expect(readFileSync(REGISTRY_FILE, 'utf8')).toBe(renderRegistry());
  });

  it('holds every rule a file under shared/rules exports, so a rule file is all a new rule needs', () => {
    const exported = modules.flatMap(([file, module]) =>
      Object.entries(module).flatMap(([name, value]) =>
        looksLikeRule(value) ? [{ file, name, value }] : [],
      ),
    );
    expect(exported.length).toBe(registry.length);
    for (const { file, name, value } of exported)
      expect(registry, `${file} exports ${name}: name it after its file (camelCase)`).toContain(value);
  });

  it.each([aclGuard, keyGuard, policyGuard].map((guard) => [guard.name, guard] as const))(
    "gives each rule of %s the events it reacts to, among its guard's, and together all of them",
    (name, guard) => {
      const rules = rulesOf(name as Parameters<typeof rulesOf>[0]);
      expect(rules.length).toBeGreaterThan(0);
      for (const rule of rules) {
        expect(rule.events?.length, `${rule.id} declares no events`).toBeGreaterThan(0);
        expect(guard.events, `${rule.id}'s events`).toEqual(expect.arrayContaining([...(rule.events ?? [])]));
      }
      expect(new Set(rules.flatMap((r) => r.events ?? []))).toEqual(new Set(guard.events));
    },
  );
});
