import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { analysePolicy, type PolicyContext } from '../../shared/policy';
import { policyRules } from '../../shared/rules';

const OWNER = '1234567890123456';
const ctx: PolicyContext = { bucket: 'examplebucket', ownerAccountId: OWNER };
const fixture = (name: string): string =>
  readFileSync(new URL(`../fixtures/policies/${name}`, import.meta.url), 'utf8');

const allow = (principal: unknown, condition?: Record<string, unknown>) => ({
  Effect: 'Allow',
  Principal: principal,
  Action: ['oss:GetObject'],
  Resource: [`acs:oss:*:${OWNER}:examplebucket/*`],
  ...(condition ? { Condition: condition } : {}),
});
const policy = (...statements: unknown[]) => ({ Version: '1', Statement: statements });
const isPublic = (doc: unknown): boolean => analysePolicy(doc, ctx).public;
const ip = (...cidrs: string[]) => ({
  IpAddress: { 'acs:SourceIp': cidrs },
  StringNotLike: { 'acs:SourceVpc': ['vpc-*'] },
});

// https://www.alibabacloud.com/help/en/oss/user-guide/block-public-access, "conditions for non-public access".
const table: Array<[string, unknown, boolean]> = [
  ['a fixed principal is not public', policy(allow(['2021476040493500'])), false],
  ['several fixed principals are not public', policy(allow(['2021476040493500', OWNER])), false],
  ['"*" without a condition is public', policy(allow('*')), true],
  ['[] is "*" and public', policy(allow([])), true],
  ['"*" next to a fixed principal is public', policy(allow(['*', OWNER])), true],
  ['a Deny to "*" is never public', policy({ ...allow('*'), Effect: 'Deny' }), false],
  [
    '"*" with a fixed acs:SourceVpc is not public',
    policy(allow('*', { StringEquals: { 'acs:SourceVpc': 'vpc-abc' } })),
    false,
  ],
  [
    '"*" with acs:SourceVpc vpc-* is public',
    policy(allow('*', { StringLike: { 'acs:SourceVpc': ['vpc-*'] } })),
    true,
  ],
  [
    '"*" with a fixed acs:SourceVpcId is not public',
    policy(allow('*', { StringEquals: { 'acs:SourceVpcId': ['vpc-abc'] } })),
    false,
  ],
  [
    '"*" with a fixed acs:AccessId is not public',
    policy(allow('*', { StringEquals: { 'acs:AccessId': ['LTAI5tAbc'] } })),
    false,
  ],
  [
    '"*" with a wildcard acs:AccessId is public',
    policy(allow('*', { StringLike: { 'acs:AccessId': ['LTAI*'] } })),
    true,
  ],
  ['"*" with acs:SourceIp /8 is not public', policy(allow('*', ip('10.0.0.0/8'))), false],
  ['"*" with acs:SourceIp /7 is public', policy(allow('*', ip('10.0.0.0/7'))), true],
  ['"*" with acs:SourceIp 0.0.0.0/0 is public', policy(allow('*', ip('0.0.0.0/0'))), true],
  ['"*" with one host is not public', policy(allow('*', ip('10.10.10.10'))), false],
  ['"*" with a /16 and a /0 is public', policy(allow('*', ip('192.168.0.0/16', '0.0.0.0/0'))), true],
  ['"*" with acs:SourceIp "*" is public', policy(allow('*', ip('*'))), true],
  ['"*" with IPv6 /32 is not public', policy(allow('*', ip('2001:db8::/32'))), false],
  ['"*" with IPv6 /31 is public', policy(allow('*', ip('2001:db8::/31'))), true],
  [
    '"*" with the IPv4-mapped block ::ffff:0.0.0.0/96 (every IPv4 address) is public',
    policy(allow('*', ip('::ffff:0.0.0.0/96'))),
    true,
  ],
  [
    '"*" with the IPv4-mapped block written in hex, ::ffff:0:0/96, is public',
    policy(allow('*', ip('::ffff:0:0/96'))),
    true,
  ],
  [
    '"*" with IPv6 ::/32, which holds every IPv4 address in mapped form, is public',
    policy(allow('*', ip('::/32'))),
    true,
  ],
  [
    '"*" with IPv6 0:0::/64, which holds every IPv4 address in mapped form, is public',
    policy(allow('*', ip('0:0::/64'))),
    true,
  ],
  [
    '"*" with a ? wildcard acs:SourceVpc (vpc-????) is public',
    policy(allow('*', { StringLike: { 'acs:SourceVpc': ['vpc-????'] } })),
    true,
  ],
  [
    '"*" with a ? wildcard acs:AccessId (LTAI????) is public',
    policy(allow('*', { StringLike: { 'acs:AccessId': ['LTAI????'] } })),
    true,
  ],
  [
    '"*" with a ? in a StringEquals acs:SourceVpcId is public (a wildcard character is not a fixed value)',
    policy(allow('*', { StringEquals: { 'acs:SourceVpcId': ['vpc-ab?'] } })),
    true,
  ],
  [
    '"*" with the IPv4-mapped block ::ffff:10.0.0.0/104 (a /8) is not public',
    policy(allow('*', ip('::ffff:10.0.0.0/104'))),
    false,
  ],
  [
    '"*" with acs:SourceVpcIp /16 is not public',
    policy(allow('*', { IpAddress: { 'acs:SourceVpcIp': ['172.16.0.0/16'] } })),
    false,
  ],
  [
    '"*" with NotIpAddress is public',
    policy(allow('*', { NotIpAddress: { 'acs:SourceIp': ['10.0.0.0/8'] } })),
    true,
  ],
  [
    '"*" with only acs:SecureTransport is public',
    policy(allow('*', { Bool: { 'acs:SecureTransport': 'true' } })),
    true,
  ],
  [
    'Action and Resource do not decide: "*" on the bucket ARN is public',
    policy({ ...allow('*'), Action: 'oss:ListObjects', Resource: `acs:oss:*:${OWNER}:examplebucket` }),
    true,
  ],
  [
    'Action and Resource do not decide: a fixed principal with oss:* on "*" is not public',
    policy({ ...allow([OWNER]), Action: 'oss:*', Resource: '*' }),
    false,
  ],
  ['one public statement makes the policy public', policy(allow([OWNER]), allow('*')), true],
  [
    'NotPrincipal cannot be judged, so it counts as public',
    policy({ ...allow(undefined), NotPrincipal: [OWNER] }),
    true,
  ],
  ['an unparseable policy is never called safe', '{"Version": "1", "Statement": [', true],
  ['a statement that is not an object is never called safe', policy(allow([OWNER]), 'oops'), true],
  ['no statements grant nothing', policy(), false],
];

describe('public, as Block Public Access defines it', () => {
  it.each(table)('%s', (_case, doc, expected) => {
    expect(isPublic(doc)).toBe(expected);
  });
});

const docs: Array<[string, boolean, boolean]> = [
  // [fixture, public, valid]
  ['doc-0030-sourceip-without-vpc.json', false, false],
  ['doc-0030-internet-cidr-not-from-vpc.json', false, true],
  ['doc-0030-vpc-addresses.json', false, true],
  ['doc-bpa-vpc-wildcard-plus-fixed-principal.json', true, true],
  ['anyone-from-any-address.json', true, true],
  ['https-only-ram-user-read-write.json', false, true],
  ['public-website.json', true, true],
  ['anonymous-write.json', true, true],
  ['version-2.json', false, false],
];

describe('documented examples', () => {
  it.each(docs)('judge %s as OSS documents it (public %s, valid %s)', (name, expectedPublic, valid) => {
    const analysis = analysePolicy(fixture(name), ctx);
    expect(analysis.public).toBe(expectedPublic);
    expect(analysis.valid).toBe(valid);
  });

  it('reject acs:SourceIp without acs:SourceVpc, as PutBucketPolicy does (EC 0030-00000008)', () => {
    const findings = analysePolicy(fixture('doc-0030-sourceip-without-vpc.json'), ctx).findings;
    expect(findings).toContainEqual(
      expect.objectContaining({
        rule: 'invalid-policy',
        severity: 'high',
        statement: 0,
        message: expect.stringMatching(/0030-00000008/),
      }),
    );
  });

  it('find nothing to fix in an HTTPS-only grant to the owner on one prefix', () => {
    expect(analysePolicy(fixture('https-only-ram-user-read-write.json'), ctx).findings).toEqual([]);
  });
});

// Arbitraries: plausible statements built from realistic and broken parts, and outright garbage.
const uid = fc.stringMatching(/^\d{16}$/);
const principal = fc.oneof(
  fc.constant('*'),
  uid,
  uid.map((u) => `acs:ram::${u}:role/r`),
  fc.constant(`${OWNER.slice(0, 4)}*`),
);
const principals = fc.oneof(principal, fc.array(principal, { maxLength: 3 }), fc.anything());
const action = fc.constantFrom(
  'oss:*',
  '*',
  'oss:GetObject',
  'oss:PutObject',
  'oss:Get*',
  'oss:Put*',
  'oss:ListObjects',
  'ecs:*',
);
const resource = fc.constantFrom(
  '*',
  `acs:oss:*:${OWNER}:examplebucket`,
  `acs:oss:*:${OWNER}:examplebucket/*`,
  'acs:oss:*:*:examplebucket/pub/*',
  'acs:oss:cn-hangzhou:1:other/*',
  'arn:aws:s3:::x',
);
const cidr = fc.oneof(
  fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 33 })).map(([a, m]) => `${a}/${m}`),
  fc.ipV4(),
  fc.tuple(fc.ipV6(), fc.integer({ min: 0, max: 129 })).map(([a, m]) => `${a}/${m}`),
  fc.constantFrom('*', 'not-an-ip', '10.0.0.0/x'),
);
const conditionBlock = fc.dictionary(
  fc.constantFrom(
    'StringEquals',
    'StringLike',
    'StringNotLike',
    'IpAddress',
    'NotIpAddress',
    'Bool',
    'Bogus',
  ),
  fc.dictionary(
    fc.constantFrom(
      'acs:SourceIp',
      'acs:SourceVpc',
      'acs:SourceVpcId',
      'acs:AccessId',
      'acs:SecureTransport',
      'acs:SourceVpcIp',
    ),
    fc.oneof(
      cidr,
      fc.array(cidr, { maxLength: 3 }),
      fc.constantFrom('vpc-*', 'vpc-abc', 'true', 'false'),
      fc.anything(),
    ),
    { maxKeys: 3 },
  ),
  { maxKeys: 3 },
);
const statement = fc.record(
  {
    Effect: fc.oneof(fc.constantFrom('Allow', 'Deny'), fc.anything()),
    Principal: principals,
    NotPrincipal: principals,
    Action: fc.oneof(action, fc.array(action, { maxLength: 3 }), fc.anything()),
    NotAction: fc.array(action),
    Resource: fc.oneof(resource, fc.array(resource, { maxLength: 3 })),
    Condition: fc.oneof(conditionBlock, fc.anything()),
    Sid: fc.string(),
  },
  { requiredKeys: ['Effect'] },
);
const plausible = fc.record(
  {
    Version: fc.oneof(fc.constant('1'), fc.anything()),
    Statement: fc.oneof(
      fc.array(fc.oneof(statement, fc.anything()), { maxLength: 4 }),
      statement,
      fc.anything(),
    ),
  },
  { requiredKeys: ['Statement'] },
);
const anyPolicy = fc.oneof(
  plausible,
  fc.jsonValue(),
  fc.string(),
  fc.anything(),
  plausible.map((p) => JSON.stringify(p)),
);
const withList = plausible.filter((p): p is { Statement: unknown[] } => Array.isArray(p.Statement));

describe('properties', () => {
  it('generate both public and non-public policies, so the properties below are not vacuous', () => {
    const verdicts = new Set(fc.sample(withList, { numRuns: 300, seed: 1 }).map(isPublic));
    expect(verdicts).toEqual(new Set([true, false]));
  });

  it('never throw, and report only known rules about real statements', () => {
    fc.assert(
      fc.property(anyPolicy, (doc) => {
        const analysis = analysePolicy(doc, ctx);
        for (const f of analysis.findings) {
          expect(policyRules.map((r) => r.id)).toContain(f.rule);
          if (f.statement !== null) expect(f.statement).toBeLessThan(analysis.statements);
        }
        expect(analysis.valid).toBe(!analysis.findings.some((f) => f.rule === 'invalid-policy'));
      }),
      { numRuns: 500 },
    );
  });

  it('never turn a non-public policy public by adding a Deny statement', () => {
    fc.assert(
      fc.property(withList, statement, (doc, extra) => {
        const before = isPublic(doc);
        const after = isPublic({ ...doc, Statement: [...doc.Statement, { ...extra, Effect: 'Deny' }] });
        expect(after).toBe(before);
      }),
      { numRuns: 300 },
    );
  });

  it('never turn a policy public by replacing "*" with a fixed UID', () => {
    const narrow = (p: unknown): unknown =>
      p === '*' ? OWNER : Array.isArray(p) ? (p.length === 0 ? [OWNER] : p.map(narrow)) : p;
    fc.assert(
      fc.property(withList, fc.nat(), (doc, pick) => {
        const index = doc.Statement.length === 0 ? 0 : pick % doc.Statement.length;
        const target = doc.Statement[index];
        const statements = [...doc.Statement];
        if (target && typeof target === 'object' && 'Principal' in target)
          statements[index] = { ...target, Principal: narrow((target as { Principal: unknown }).Principal) };
        const after = isPublic({ ...doc, Statement: statements });
        if (after) expect(isPublic(doc)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
