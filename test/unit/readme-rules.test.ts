import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderRulesTables } from '../../shared/rules/docs';

describe("the README's rules tables", () => {
  it('are what the rule registry renders (run `npm run docs:rules` after changing a rule)', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    expect(renderRulesTables(readme)).toBe(readme);
  });
});
