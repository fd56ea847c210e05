import { describe, expect, it } from 'vitest';
import { evaluateExceptions, narrowException, parseExceptionTag } from '../../shared/rule-exceptions';
import { wildcardMatches } from '../../shared/wildcard';

const now = new Date('2026-11-28T12:00:00Z');
const SETTINGS = { tagKey: 'ossguard-exception', maxLifetimeDays: 90 };

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
    [
      'until=2027-01-31;reason=public website;rules=anonymous-principal',
      { until: '2027-01-31', reason: 'public website', rules: ['anonymous-principal'] },
    ],
    [
      ' reason = docs ; until = 2027-01-31 ; rules = no-mfa, untrusted-source ',
      { until: '2027-01-31', reason: 'docs', rules: ['no-mfa', 'untrusted-source'] },
    ],
    ['until=2099-02-31;reason=x;rules=no-mfa', { error: expect.stringMatching(/not a real date/) }],
    ['until=2027-01-31;reason=x', { error: expect.stringMatching(/rules=.* is missing/) }],
    ['reason=forever', { error: expect.stringMatching(/until=YYYY-MM-DD is missing/) }],
    ['until=31.01.2027;reason=x', { error: expect.stringMatching(/not a real date/) }],
    ['until=2027-01-31', { error: expect.stringMatching(/reason/) }],
    ['garbage', { error: expect.stringMatching(/not key=value/) }],
  ])('parse %j', (value, expected) => {
    expect(parseExceptionTag(value)).toEqual(expected);
  });
});

describe('evaluating exceptions for a resource', () => {
  const configured = [{ pattern: 'site-*', reason: 'static website' }];

  it('applies a matching config glob and says which', () => {
    expect(evaluateExceptions('site-www', configured, {}, SETTINGS, now, undefined).applied).toEqual({
      source: 'config',
      match: 'site-*',
      reason: 'static website',
    });
  });

  it('applies a tag whose date is in the future, through the whole of that day', () => {
    const tags = { 'ossguard-exception': 'until=2026-11-28;reason=launch day;rules=anonymous-principal' };
    expect(evaluateExceptions('b', [], tags, SETTINGS, now, undefined).applied).toMatchObject({
      source: 'tag',
      until: '2026-11-28',
    });
  });

  it.each([
    [
      'an expired tag',
      { 'ossguard-exception': 'until=2026-11-27;reason=old;rules=x' },
      /expired on 2026-11-27/,
    ],
    [
      'a tag beyond exceptions.maxLifetimeDays',
      { 'ossguard-exception': 'until=9999-12-31;reason=forever;rules=x' },
      /more than 90 days away/,
    ],
    ['a malformed tag', { 'ossguard-exception': 'whenever' }, /malformed/],
  ])('ignores %s and says why', (_case, tags, why) => {
    const outcome = evaluateExceptions('b', [], tags, SETTINGS, now, undefined);
    expect(outcome.applied).toBeUndefined();
    expect(outcome.ignored[0]?.why).toMatch(why);
  });

  it.each([
    ['another case', 'OSSGUARD-EXCEPTION'],
    ['a trailing space', 'ossguard-exception '],
    ['a Cyrillic look-alike letter', 'ossguard-\u0435xception'],
    ['a zero-width space', 'ossguard-\u200bexception'],
  ])('grants nothing for a tag whose key differs from exceptions.tagKey by %s', (_case, key) => {
    const tags = { [key]: 'until=2026-12-31;reason=mine;rules=untrusted-source' };
    expect(evaluateExceptions('b', [], tags, SETTINGS, now, undefined)).toEqual({ ignored: [] });
  });

  it('ignores an expired config exception', () => {
    const outcome = evaluateExceptions(
      'site-a',
      [{ pattern: 'site-*', reason: 'x', until: '2026-01-01' }],
      {},
      SETTINGS,
      now,
      undefined,
    );
    expect(outcome.applied).toBeUndefined();
    expect(outcome.ignored).toEqual([{ source: 'config', match: 'site-*', why: 'expired on 2026-01-01' }]);
  });
});

describe('exceptions scoped to accounts', () => {
  const B = '1111111111111111';
  const C = '2222222222222222';
  const scoped = [{ pattern: 'site-*', reason: 'B hosts the website', accounts: [B] }];
  const tag = (accounts: string) => ({
    'ossguard-exception': `until=2026-12-01;reason=launch;rules=oss-acl-guard;accounts=${accounts}`,
  });

  it.each([
    ['a config entry for B waives in B', scoped, {}, B, true],
    ['a config entry for B never waives in C', scoped, {}, C, false],
    ['a config entry for B never waives where the change names no account', scoped, {}, undefined, false],
    [
      'a config entry naming no account waives in every account',
      [{ pattern: 'site-*', reason: 'x' }],
      {},
      C,
      true,
    ],
    ['a tag scoped to B waives in B', [], tag(B), B, true],
    ['a tag scoped to B never waives in C (a tag copied there)', [], tag(B), C, false],
    ['a tag scoped to B and C waives in C', [], tag(`${B},${C}`), C, true],
  ])('%s', (_case, configured, tags, accountId, waives) => {
    const outcome = evaluateExceptions('site-www', configured, tags, SETTINGS, now, accountId);
    expect(outcome.applied !== undefined).toBe(waives);
  });

  it('says why a tag scoped to another account was ignored', () => {
    const outcome = evaluateExceptions('site-www', [], tag(B), SETTINGS, now, C);
    expect(outcome.ignored).toEqual([
      { source: 'tag', match: 'ossguard-exception', why: `scoped to account(s) ${B}, not ${C}` },
    ]);
  });

  it('refuses a tag whose accounts= are not account ids', () => {
    expect(parseExceptionTag('until=2026-12-01;reason=x;rules=no-mfa;accounts=prod')).toEqual({
      error: expect.stringMatching(/accounts= must list account ids/),
    });
  });

  it('keeps the accounts of the exception it applied in the record', () => {
    expect(evaluateExceptions('site-www', scoped, {}, SETTINGS, now, B).applied).toMatchObject({
      accounts: [B],
    });
  });
});

describe('what an exception waives', () => {
  const applied = { source: 'config' as const, match: 'ci-*', reason: 'CI' };

  it('waives the rules it names, and every rule about its subject when it names none', () => {
    const named = { applied: { ...applied, rules: ['no-mfa'] }, ignored: [] };
    expect(narrowException(named, ['no-mfa']).applied).toBeDefined();
    expect(narrowException({ applied, ignored: [] }, ['no-mfa', 'console-user-key']).applied).toBeDefined();
  });

  it("waives every rule of a guard it names by the guard's name, and no other guard's", () => {
    const named = { applied: { ...applied, rules: ['oss-acl-guard'] }, ignored: [] };
    expect(narrowException(named, ['bucket-acl-public-read', 'object-acl-public']).applied).toBeDefined();
    expect(narrowException(named, ['anonymous-principal']).applied).toBeUndefined();
  });

  it('is ignored, and says why, when a rule fired that it does not name', () => {
    const named = { applied: { ...applied, rules: ['no-mfa'] }, ignored: [] };
    expect(narrowException(named, ['no-mfa', 'console-user-key'])).toEqual({
      ignored: [{ source: 'config', match: 'ci-*', why: 'does not name console-user-key' }],
    });
  });

  it('never waives a rule about someone other than its subject, even one it names', () => {
    const named = { applied: { ...applied, rules: ['key-for-other-user'] }, ignored: [] };
    const outcome = narrowException(named, ['key-for-other-user'], new Set(['key-for-other-user']));
    expect(outcome.applied).toBeUndefined();
    expect(outcome.ignored[0]?.why).toMatch(/about someone other than its subject/);
  });
});
