import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../shared/config';
import { snapshotKey } from '../../shared/guards/policy-snapshots';
import { analysePolicy, type PolicyContext } from '../../shared/policy';
import { findingsOf, findRule, policyChangeRules, policyRules, rulesOf } from '../../shared/rules';

const OWNER = '1234567890123456';
const ctx: PolicyContext = { bucket: 'examplebucket', ownerAccountId: OWNER };
const fixture = (name: string) => readFileSync(`test/fixtures/policies/${name}`, 'utf8');

describe('the policy rule registry entries', () => {
  it('are the rules oss-policy-guard runs, in their order, with invalid-policy last', () => {
    const ids = policyRules.map((r) => r.id);
    // Plus the rules about what a change did, which no analysis of the policy alone can show.
    expect(rulesOf('oss-policy-guard').map((r) => r.id)).toEqual([
      ...ids,
      ...policyChangeRules.map((r) => r.id),
    ]);
    expect(ids.slice(0, 3)).toEqual(['anonymous-principal', 'public-write', 'wildcard-action']);
    expect(ids.at(-1)).toBe('invalid-policy');
    for (const id of ids) expect(findRule(id)).toBeDefined();
  });

  it('judge statements in order: the findings of one statement follow the rules', () => {
    const analysis = analysePolicy(fixture('anonymous-write.json'), ctx);
    const ranks = analysis.findings.map((f) => [
      f.statement ?? -1,
      policyRules.findIndex((r) => r.id === f.rule),
    ]);
    expect(ranks).toEqual([...ranks].sort(([sa = 0, ra = 0], [sb = 0, rb = 0]) => sa - sb || ra - rb));
    expect(analysis.findings.map((f) => f.rule)).toContain('public-write');
  });

  it.each(policyRules.map((r) => [r.id, r] as const))(
    'give %s the guard, the RAM actions it needs and a statement check unless the parser reports it',
    (id, rule) => {
      expect(rule).toMatchObject({ guard: 'oss-policy-guard' });
      expect(rule.check === undefined).toBe(id === 'invalid-policy');
      expect(rule.readActions).toEqual([
        'oss:GetBucketPolicy',
        'oss:GetBucketPolicyStatus',
        'oss:GetBucketInfo',
      ]);
      expect(rule.remediation?.actions).toEqual(
        expect.arrayContaining(['oss:PutBucketPolicy', 'oss:DeleteBucketPolicy']),
      );
    },
  );

  const policies: Array<[string, string]> = [
    ['a public website policy', fixture('public-website.json')],
    ['an anonymous-write policy', fixture('anonymous-write.json')],
    ['an HTTPS-only policy for the owner', fixture('https-only-ram-user-read-write.json')],
    ['text that is not JSON', fixture('not-json.txt')],
  ];

  it.each(policies)(
    'return, for %s, exactly the analyser findings of their rule with statement and fix as evidence',
    (_case, text) => {
      const analysis = analysePolicy(text, ctx);
      for (const rule of policyRules) {
        const expected = analysis.findings.filter((f) => f.rule === rule.id);
        const found = findingsOf(rule, analysis);
        expect(found).toHaveLength(expected.length);
        found.forEach((finding, i) => {
          const source = expected[i];
          expect(finding).toMatchObject({
            ruleId: rule.id,
            severity: source?.severity,
            evidence: { statement: source?.statement, fix: source?.fix },
          });
          expect(finding.message).toContain(source?.message);
        });
      }
    },
  );

  it('say which statement a finding is about in its message, and nothing for the whole policy', () => {
    const website = analysePolicy(fixture('public-website.json'), ctx);
    const anonymous = policyRules.find((r) => r.id === 'anonymous-principal');
    expect(findingsOf(anonymous!, website)[0]?.message).toMatch(/^statement 0: /);

    const unreadable = analysePolicy(fixture('not-json.txt'), ctx);
    const invalid = policyRules.find((r) => r.id === 'invalid-policy');
    const [finding] = findingsOf(invalid!, unreadable);
    expect(finding?.evidence.statement).toBeNull();
    expect(finding?.message).not.toMatch(/^statement/);
  });

  it('let the config set each policy rule to off, alert or enforce', () => {
    const config = parseConfig(
      'audit: {bucket: audit-bucket}\nrules: {public-write: enforce, whole-bucket-resource: off, invalid-policy: alert}',
    );
    expect(config.rules).toEqual({
      'public-write': 'enforce',
      'whole-bucket-resource': 'off',
      'invalid-policy': 'alert',
    });
  });
});

describe('policy snapshot keys', () => {
  it('list the newest snapshot first, so one ListObjects with max-keys=1 finds it', () => {
    const older = snapshotKey('site', new Date('2026-01-01T00:00:00.000Z'), 'event-a');
    const newer = snapshotKey('site', new Date('2026-01-01T00:00:00.001Z'), 'event-b');
    expect([older, newer].sort()).toEqual([newer, older]);
    expect(newer.startsWith('ossguard/policy-snapshots/site/')).toBe(true);
  });

  it('give two snapshots of the same millisecond keys of their own (keys are write-once)', () => {
    const at = new Date('2026-01-01T00:00:00.000Z');
    expect(snapshotKey('site', at, 'event-a')).not.toBe(snapshotKey('site', at, 'event-b'));
  });
});
