import { describe, expect, it } from 'vitest';
import {
  analysePolicy,
  inferTarget,
  type PolicyContext,
  PolicyShapeError,
  policyPasses,
  statementsToStrip,
  stripStatements,
} from '../../shared/policy';

const OWNER = '1234567890123456';
const ARN = `acs:oss:*:${OWNER}:examplebucket`;
const ctx: PolicyContext = { bucket: 'examplebucket', ownerAccountId: OWNER };
const good = {
  Effect: 'Allow',
  Principal: [OWNER],
  Action: ['oss:GetObject'],
  Resource: [`${ARN}/reports/*`],
  Condition: { Bool: { 'acs:SecureTransport': ['true'] } },
};
const policy = (...statements: unknown[]) => ({ Version: '1', Statement: statements });
const without = (key: string) => Object.fromEntries(Object.entries(good).filter(([k]) => k !== key));
const invalid = (doc: unknown) =>
  analysePolicy(doc, ctx)
    .findings.filter((f) => f.rule === 'invalid-policy')
    .map((f) => [f.statement, f.severity]);

const invalidCases: Array<[string, unknown, Array<[number | null, string]>]> = [
  ['text that is not JSON', '{"Version": "1",', [[null, 'high']]],
  ['a JSON array', '[]', [[null, 'high']]],
  ['a policy without Version', { Statement: [good] }, [[null, 'medium']]],
  ['Version "2012-10-17"', { Version: '2012-10-17', Statement: [good] }, [[null, 'high']]],
  ['Version given as a number', { Version: 1, Statement: [good] }, [[null, 'high']]],
  ['no Statement', { Version: '1' }, [[null, 'high']]],
  ['one statement not wrapped in a list', { Version: '1', Statement: good }, [[null, 'high']]],
  ['an empty Statement list', policy(), [[null, 'medium']]],
  ['an unknown top-level element', { ...policy(good), Id: 'x' }, [[null, 'medium']]],
  ['a statement that is not an object', policy(good, 42), [[1, 'high']]],
  ['Effect "allow" in lower case', policy({ ...good, Effect: 'allow' }), [[0, 'high']]],
  ['no Principal', policy(without('Principal')), [[0, 'high']]],
  ['a numeric Principal', policy({ ...good, Principal: [1234] }), [[0, 'high']]],
  ['a RAM-style Principal object', policy({ ...good, Principal: { RAM: [OWNER] } }), [[0, 'medium']]],
  ['no Action', policy(without('Action')), [[0, 'high']]],
  ['an empty Action list', policy({ ...good, Action: [] }), [[0, 'high']]],
  ['a non-OSS action', policy({ ...good, Action: ['ecs:DescribeInstances'] }), [[0, 'medium']]],
  ['no Resource', policy(without('Resource')), [[0, 'high']]],
  ['an S3 ARN', policy({ ...good, Resource: 'arn:aws:s3:::examplebucket/*' }), [[0, 'medium']]],
  [
    'a resource in another bucket',
    policy({ ...good, Resource: `acs:oss:*:${OWNER}:otherbucket/*` }),
    [[0, 'medium']],
  ],
  [
    'a resource of another owner',
    policy({ ...good, Resource: 'acs:oss:*:9:examplebucket/a/*' }),
    [[0, 'medium']],
  ],
  [
    'a resource with a region',
    policy({ ...good, Resource: `acs:oss:cn-hangzhou:${OWNER}:examplebucket/a/*` }),
    [[0, 'medium']],
  ],
  ['NotAction', policy({ ...without('Action'), NotAction: ['oss:DeleteObject'] }), [[0, 'high']]],
  ['NotPrincipal', policy({ ...without('Principal'), NotPrincipal: [OWNER] }), [[0, 'high']]],
  ['NotResource', policy({ ...without('Resource'), NotResource: [`${ARN}/secret/*`] }), [[0, 'high']]],
  ['an AWS-style Sid', policy({ ...good, Sid: 'ReadReports' }), [[0, 'medium']]],
  ['a Condition that is a string', policy({ ...good, Condition: 'true' }), [[0, 'high']]],
  [
    'an operator block that is not an object',
    policy({ ...good, Condition: { Bool: 'true' } }),
    [[0, 'high']],
  ],
  [
    'an unknown operator',
    policy({ ...good, Condition: { ...good.Condition, ArnLike: { 'acs:SourceArn': 'x' } } }),
    [[0, 'medium']],
  ],
  [
    'a condition value that is an object',
    policy({ ...good, Condition: { StringEquals: { 'acs:SourceVpc': { id: 'vpc-1' } } } }),
    [[0, 'high']],
  ],
  [
    'acs:SourceIp without acs:SourceVpc (EC 0030-00000008)',
    policy({ ...good, Condition: { IpAddress: { 'acs:SourceIp': ['10.0.0.0/8'] } } }),
    [[0, 'high']],
  ],
  [
    'a source IP that is not an address',
    policy({
      ...good,
      Condition: {
        IpAddress: { 'acs:SourceIp': ['10.0.0.0/33'] },
        StringNotLike: { 'acs:SourceVpc': 'vpc-*' },
      },
    }),
    [[0, 'medium']],
  ],
  [
    'a policy over 16 KB',
    policy(
      ...Array.from({ length: 120 }, (_, i) => ({ ...good, Resource: [`${ARN}/${'x'.repeat(100)}${i}/*`] })),
    ),
    [[null, 'high']],
  ],
];

describe('invalid-policy', () => {
  it.each(invalidCases)('reports %s', (_case, doc, expected) => {
    expect(invalid(doc)).toEqual(expected);
  });

  it('still judges a statement that was not wrapped in a list', () => {
    const findings = analysePolicy({ Version: '1', Statement: { ...good, Principal: '*' } }, ctx).findings;
    expect(findings.map((f) => f.rule)).toContain('anonymous-principal');
  });
});

const forms: Array<[string, unknown]> = [
  [
    'string Action, Resource and Principal',
    { ...good, Action: 'oss:GetObject', Resource: `${ARN}/reports/*`, Principal: OWNER },
  ],
  ['a boolean condition value', { ...good, Condition: { Bool: { 'acs:SecureTransport': true } } }],
  ['condition keys in another case', { ...good, Condition: { Bool: { 'ACS:SECURETRANSPORT': 'true' } } }],
  ['a principal ARN', { ...good, Principal: [`acs:ram::${OWNER}:role/reader`] }],
  [
    'acs:SourceIp paired with acs:SourceVpc',
    {
      ...good,
      Condition: {
        ...good.Condition,
        IpAddress: { 'acs:SourceIp': '10.0.0.0/8' },
        StringEquals: { 'acs:SourceVpc': 'vpc-1' },
      },
    },
  ],
];

describe('accepted forms', () => {
  it.each(forms)('finds nothing wrong with %s', (_case, statement) => {
    expect(analysePolicy(policy(statement), ctx).findings).toEqual([]);
  });

  it('judges parsed values that JSON cannot encode instead of throwing', () => {
    const cyclic: Record<string, unknown> = {
      ...good,
      Principal: '*',
      Condition: { Bool: { 'acs:SecureTransport': 10n } },
    };
    cyclic.Self = cyclic;
    const analysis = analysePolicy(policy(cyclic), ctx);
    expect(analysis.public).toBe(true);
    expect(analysis.valid).toBe(false);
  });

  it('reads JSON text and parsed objects alike', () => {
    const doc = policy({ ...good, Principal: '*' });
    expect(analysePolicy(JSON.stringify(doc), ctx)).toEqual(analysePolicy(doc, ctx));
  });
});

const mixed = policy(
  good,
  { ...good, Principal: '*', Action: 'oss:PutObject' },
  { ...good, Condition: undefined },
);

describe('verdicts', () => {
  it.each([
    ['critical', false],
    ['high', false],
    ['medium', false],
  ] as const)('fails a policy with a public write at threshold %s: passes=%s', (threshold, passes) => {
    expect(policyPasses(analysePolicy(mixed, ctx), threshold)).toBe(passes);
  });

  it('passes a policy whose only finding is below the threshold', () => {
    const analysis = analysePolicy(policy(good, { ...good, Condition: undefined }), ctx);
    expect([policyPasses(analysis, 'high'), policyPasses(analysis, 'medium')]).toEqual([true, false]);
  });

  it.each([
    ['high', [1]],
    ['medium', [1, 2]],
  ] as const)('strips the statements failing at %s', (threshold, indexes) => {
    expect(statementsToStrip(analysePolicy(mixed, ctx), threshold)).toEqual(indexes);
  });

  it('refuses to strip when the policy as a whole fails', () => {
    expect(
      statementsToStrip(analysePolicy({ Version: '2', Statement: [good] }, ctx), 'high'),
    ).toBeUndefined();
  });
});

describe('stripStatements', () => {
  it('removes exactly the given statements and keeps the rest as written', () => {
    const text = stripStatements(JSON.stringify(mixed), [1]);
    expect(JSON.parse(text ?? 'null')).toEqual({
      Version: '1',
      Statement: [good, { ...good, Condition: undefined }],
    });
  });

  it('yields a policy that passes once the failing statements are gone', () => {
    const stripped = stripStatements(mixed, statementsToStrip(analysePolicy(mixed, ctx), 'high') ?? []);
    expect(policyPasses(analysePolicy(stripped, ctx), 'high')).toBe(true);
  });

  it.each([
    ['every statement', policy(good, good), [0, 1]],
    ['the only, unwrapped statement', { Version: '1', Statement: good }, [0]],
  ])('returns null (delete the policy) when %s is removed', (_case, doc, indexes) => {
    expect(stripStatements(doc, indexes)).toBeNull();
  });

  it.each([
    ['text that is not JSON', '{'],
    ['a policy without statements', { Version: '1' }],
  ])('throws PolicyShapeError for %s', (_case, doc) => {
    expect(() => stripStatements(doc, [0])).toThrow(PolicyShapeError);
  });
});

describe('inferTarget', () => {
  it.each([
    ['one bucket and owner', policy(good), { bucket: 'examplebucket', ownerAccountId: OWNER }],
    ['wildcards only', policy({ ...good, Resource: 'acs:oss:*:*:*' }), {}],
    [
      'two buckets',
      policy(good, { ...good, Resource: `acs:oss:*:${OWNER}:other/*` }),
      { ownerAccountId: OWNER },
    ],
    ['text that is not JSON', 'nope', {}],
  ])('infers from %s', (_case, doc, expected) => {
    expect(inferTarget(doc)).toEqual(expected);
  });
});
