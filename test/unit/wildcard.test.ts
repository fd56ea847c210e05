import { describe, expect, it } from 'vitest';
import { wildcardMatches } from '../../shared/wildcard';

describe('the one wildcard matcher', () => {
  it.each([
    ['acs:oss:*:*:bucket/*', 'acs:oss:*:123:bucket/a/b/c.txt', true],
    ['bucket/*', 'bucket/line\nbreak', true],
    ['a?c', 'a/c', true],
    ['a?c', 'ac', false],
    ['*', '', true],
    ['a.b', 'axb', false],
    ['[ab]', 'a', false],
    ['[ab]', '[ab]', true],
    ['{a,b}', '{a,b}', true],
    ['!x', '!x', true],
    ['a\\*', 'a\\anything', true],
    ['*.hidden', '.hidden', true],
    ['oss:Get*', 'oss:getobject', false],
  ])('matches %j against %j as %s, every character but * and ? literal', (pattern, text, expected) => {
    expect(wildcardMatches(pattern, text)).toBe(expected);
  });

  it('ignores case only when asked', () => {
    expect(wildcardMatches('oss:Get*', 'oss:getobject', { ignoreCase: true })).toBe(true);
    expect(wildcardMatches('oss:Get*', 'oss:getobject', { ignoreCase: false })).toBe(false);
  });

  it('answers a pathological pattern in linear time rather than backtracking exponentially', () => {
    const pattern = `${'*a'.repeat(40)}b`;
    const started = performance.now();
    expect(wildcardMatches(pattern, 'a'.repeat(5000))).toBe(false);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
