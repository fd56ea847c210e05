import { describe, expect, it } from 'vitest';
import { evaluateExceptions, parseExceptionTag } from '../../shared/rule-exceptions';
import { wildcardMatches } from '../../shared/wildcard';

const now = new Date('2026-11-28T12:00:00Z');

describe('exception globs', () => {
  it.each([
    ['public-site-*', 'public-site-www', true],
    ['public-site-*', 'public-site', false],
    ['logs-202?', 'logs-2026', true],
    ['a.b', 'axb', false],
    ['exact', 'exact', true],
  ])('%s against %s → %s', (pattern, name, expected) => {
    expect(wildcardMatches(pattern, name)).toBe(expected);
  });
});

describe('exception tags', () => {
  it.each([
    ['until=2027-01-31;reason=public website', { until: '2027-01-31', reason: 'public website' }],
    [' reason = docs ; until = 2027-01-31 ', { until: '2027-01-31', reason: 'docs' }],
    ['reason=forever', { error: expect.stringMatching(/until=YYYY-MM-DD is missing/) }],
    ['until=31.01.2027;reason=x', { error: expect.stringMatching(/not a date/) }],
    ['until=2027-01-31', { error: expect.stringMatching(/reason/) }],
    ['garbage', { error: expect.stringMatching(/not key=value/) }],
  ])('parse %j', (value, expected) => {
    expect(parseExceptionTag(value)).toEqual(expected);
  });
});

describe('evaluating exceptions for a resource', () => {
  const configured = [{ pattern: 'site-*', reason: 'static website' }];

  it('applies a matching config glob and says which', () => {
    expect(evaluateExceptions('site-www', configured, {}, 'ossguard-exception', now).applied).toEqual({
      source: 'config',
      match: 'site-*',
      reason: 'static website',
    });
  });

  it('applies a tag whose date is in the future, through the whole of that day', () => {
    const tags = { 'ossguard-exception': 'until=2026-11-28;reason=launch day' };
    expect(evaluateExceptions('b', [], tags, 'ossguard-exception', now).applied).toMatchObject({
      source: 'tag',
      until: '2026-11-28',
    });
  });

  it.each([
    ['an expired tag', { 'ossguard-exception': 'until=2026-11-27;reason=old' }, /expired on 2026-11-27/],
    ['a malformed tag', { 'ossguard-exception': 'whenever' }, /malformed/],
  ])('ignores %s and says why', (_case, tags, why) => {
    const outcome = evaluateExceptions('b', [], tags, 'ossguard-exception', now);
    expect(outcome.applied).toBeUndefined();
    expect(outcome.ignored[0]?.why).toMatch(why);
  });

  it('ignores an expired config exception', () => {
    const outcome = evaluateExceptions(
      'site-a',
      [{ pattern: 'site-*', reason: 'x', until: '2026-01-01' }],
      {},
      'ossguard-exception',
      now,
    );
    expect(outcome.applied).toBeUndefined();
    expect(outcome.ignored).toEqual([{ source: 'config', match: 'site-*', why: 'expired on 2026-01-01' }]);
  });
});
