import { describe, expect, it } from 'vitest';
import { type AclSubject, aclRules, findingsOf, registry } from '../../shared/rules';

const bucket = (acl: 'private' | 'public-read' | 'public-read-write'): AclSubject => ({
  kind: 'bucket',
  bucket: 'b1',
  acl,
});
const object = (acl: 'default' | 'private' | 'public-read' | 'public-read-write'): AclSubject => ({
  kind: 'object',
  bucket: 'b1',
  key: 'a/b.txt',
  acl,
});

const cases: Array<[string, AclSubject, string[]]> = [
  ['a private bucket', bucket('private'), []],
  ['a public-read bucket', bucket('public-read'), ['bucket-acl-public-read']],
  ['a public-read-write bucket', bucket('public-read-write'), ['bucket-acl-public-read-write']],
  ['an object inheriting the bucket ACL', object('default'), []],
  ['a private object', object('private'), []],
  ['a public-read object', object('public-read'), ['object-acl-public']],
  ['a public-read-write object', object('public-read-write'), ['object-acl-public']],
  ['a bucket with Block Public Access on', { kind: 'bucket-bpa', bucket: 'b1', blockPublicAccess: true }, []],
  [
    'a bucket with Block Public Access off',
    { kind: 'bucket-bpa', bucket: 'b1', blockPublicAccess: false },
    ['bucket-bpa-disabled'],
  ],
  ['an account with Block Public Access on', { kind: 'account-bpa', blockPublicAccess: true }, []],
  [
    'an account with Block Public Access off',
    { kind: 'account-bpa', blockPublicAccess: false },
    ['account-bpa-disabled'],
  ],
];

describe('ACL rules', () => {
  it.each(cases)('judge %s', (_case, subject, expected) => {
    const fired = aclRules.flatMap((rule) => findingsOf(rule, subject)).map((f) => f.ruleId);
    expect(fired).toEqual(expected);
  });

  it('rate public-read-write as critical because anyone can write and the owner pays', () => {
    expect(
      findingsOf(
        aclRules.find((r) => r.id === 'bucket-acl-public-read-write')!,
        bucket('public-read-write'),
      )[0]?.severity,
    ).toBe('critical');
    expect(
      findingsOf(aclRules.find((r) => r.id === 'object-acl-public')!, object('public-read-write'))[0]
        ?.severity,
    ).toBe('critical');
  });
});

describe('the rule registry', () => {
  it('holds unique kebab-case ids', () => {
    const ids = registry.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
  });

  it.each(registry.map((r) => [r.id, r] as const))(
    'gives %s a title, a rationale, a doc link and RAM actions',
    (_id, rule) => {
      expect(rule.title.length).toBeGreaterThan(5);
      expect(rule.rationale.length).toBeGreaterThan(40);
      expect(rule.docUrl).toMatch(/^https:\/\/www\.alibabacloud\.com\/help\//);
      // A rule that judges the call a record describes (root-key-in-use) reads nothing, and so may change nothing.
      expect(rule.readActions.length > 0 || rule.remediation === undefined).toBe(true);
      for (const action of [...rule.readActions, ...(rule.remediation?.actions ?? [])]) {
        expect(action).toMatch(/^(oss|ram|ims|actiontrail|log|yundun-aegis|yundun-sas):[A-Z][A-Za-z]+$/);
      }
    },
  );
});
