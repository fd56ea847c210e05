import { describe, expect, it } from 'vitest';
import { analysePolicy, type PolicyContext } from '../../shared/policy';
import { policyRules } from '../../shared/rules';
import {
  BUCKET_ARN,
  POLICY_CONTEXT as ctx,
  HTTPS,
  OWNER,
  PARTNER,
  RAM_USER,
  STRANGER,
  statement as stmt,
  VPC,
} from '../../shared/rules/policy/statement.cases';

const policy = (...statements: unknown[]) => ({ Version: '1', Statement: statements });
const rulesFor = (doc: unknown, context: PolicyContext = ctx) =>
  analysePolicy(doc, context).findings.map((f) => f.rule);

describe('the rule list', () => {
  it('gives every policy rule a default severity, a summary and a doc link', () => {
    for (const rule of policyRules) {
      expect(rule.severity).toMatch(/^(low|medium|high|critical)$/);
      expect(rule.firesWhen.length).toBeGreaterThan(0);
      expect(rule.docUrl).toMatch(/^https:\/\//);
    }
  });
});

const cases: Array<[string, Record<string, unknown>, string[]]> = [
  ['accept a read by a known RAM user over HTTPS on one prefix', stmt(), []],
  // anonymous-principal
  [
    'flag Principal "*" with no pinning condition',
    stmt({ Principal: ['*'] }),
    ['anonymous-principal', 'no-source-restriction'],
  ],
  ['treat Principal [] like "*"', stmt({ Principal: [] }), ['anonymous-principal', 'no-source-restriction']],
  [
    'accept the string form Principal "*" as "*"',
    stmt({ Principal: '*' }),
    ['anonymous-principal', 'no-source-restriction'],
  ],
  [
    'flag a principal with a wildcard inside',
    stmt({ Principal: ['1234*'] }),
    ['anonymous-principal', 'no-source-restriction'],
  ],
  ['not flag "*" pinned to a VPC', stmt({ Principal: ['*'], Condition: { ...HTTPS, ...VPC } }), []],
  [
    'pin "*" to one AccessKey but still ask for a network restriction',
    stmt({ Principal: ['*'], Condition: { ...HTTPS, StringEquals: { 'acs:AccessId': ['LTAI5tExample'] } } }),
    ['no-source-restriction'],
  ],
  [
    'not count StringNotEquals on acs:SourceVpc as a pin',
    stmt({ Principal: ['*'], Condition: { ...HTTPS, StringNotEquals: { 'acs:SourceVpc': ['vpc-abc'] } } }),
    ['anonymous-principal', 'no-source-restriction'],
  ],
  // public-write
  [
    'flag anonymous PutObject',
    stmt({ Principal: ['*'], Action: ['oss:GetObject', 'oss:PutObject'] }),
    ['anonymous-principal', 'public-write', 'no-source-restriction'],
  ],
  [
    'flag anonymous DeleteObject even when pinned to a VPC',
    stmt({ Principal: ['*'], Action: 'oss:DeleteObject', Condition: { ...HTTPS, ...VPC } }),
    ['public-write'],
  ],
  [
    'flag anonymous oss:Put* as a write and as a wildcard',
    stmt({ Principal: ['*'], Action: ['oss:Put*'], Condition: { ...HTTPS, ...VPC } }),
    ['public-write', 'wildcard-action'],
  ],
  // wildcard-action
  ['flag oss:* for a known RAM user', stmt({ Action: ['oss:*'] }), ['wildcard-action']],
  ['flag a bare "*" action', stmt({ Action: '*' }), ['wildcard-action']],
  [
    'flag oss:Get* because it also reads the bucket policy and ACL',
    stmt({ Action: ['oss:Get*'] }),
    ['wildcard-action'],
  ],
  [
    'flag oss:*Object because it mixes reads and writes',
    stmt({ Action: ['oss:*Object'] }),
    ['wildcard-action'],
  ],
  ['accept oss:GetObject* (object reads only)', stmt({ Action: ['oss:GetObject*'] }), []],
  ['accept oss:List*', stmt({ Action: ['oss:List*'] }), []],
  // whole-bucket-resource
  ['flag bucket/*', stmt({ Resource: [`${BUCKET_ARN}/*`] }), ['whole-bucket-resource']],
  ['flag "*"', stmt({ Resource: '*' }), ['whole-bucket-resource']],
  ['flag acs:oss:*:*:*', stmt({ Resource: ['acs:oss:*:*:*'] }), ['whole-bucket-resource']],
  ['flag a bucket-name wildcard', stmt({ Resource: [`${BUCKET_ARN}*`] }), ['whole-bucket-resource']],
  [
    'accept the bucket ARN itself for bucket-level actions',
    stmt({ Action: ['oss:ListObjects'], Resource: [BUCKET_ARN] }),
    [],
  ],
  [
    'not flag a broad Deny',
    stmt({ Effect: 'Deny', Resource: [`${BUCKET_ARN}/*`], Condition: undefined }),
    [],
  ],
  // no-https-condition
  ['flag an Allow without acs:SecureTransport', stmt({ Condition: undefined }), ['no-https-condition']],
  [
    'accept Bool acs:SecureTransport true given as a boolean',
    stmt({ Condition: { Bool: { 'acs:SecureTransport': true } } }),
    [],
  ],
  [
    'match condition keys case-insensitively',
    stmt({ Condition: { Bool: { 'ACS:SecureTransport': ['TRUE'] } } }),
    [],
  ],
  // no-source-restriction and foreign-account-principal
  [
    'flag a stranger from any network',
    stmt({ Principal: [STRANGER] }),
    ['no-source-restriction', 'foreign-account-principal'],
  ],
  [
    'not ask a stranger limited to a /24 outside any VPC for a network restriction',
    stmt({
      Principal: [STRANGER],
      Condition: {
        ...HTTPS,
        IpAddress: { 'acs:SourceIp': ['203.0.113.0/24'] },
        StringNotLike: { 'acs:SourceVpc': 'vpc-*' },
      },
    }),
    ['foreign-account-principal'],
  ],
  [
    'flag a stranger named by a RAM role ARN',
    stmt({ Principal: [`acs:ram::${STRANGER}:role/reader`] }),
    ['no-source-restriction', 'foreign-account-principal'],
  ],
  ['accept a role of the owner account', stmt({ Principal: [`acs:ram::${OWNER}:role/reader`] }), []],
  ['accept the owner account', stmt({ Principal: [OWNER] }), []],
  ['accept a trusted account', stmt({ Principal: [PARTNER] }), []],
  ['accept a RAM role ARN of a trusted account', stmt({ Principal: [`acs:ram::${PARTNER}:role/sync`] }), []],
  [
    'flag an unlisted UID, since a RAM user cannot be told from an account by shape',
    stmt({ Principal: ['2000000000000002'] }),
    ['no-source-restriction', 'foreign-account-principal'],
  ],
  ['not flag a stranger in a Deny', stmt({ Effect: 'Deny', Principal: [STRANGER] }), []],
];

describe('statement rules', () => {
  it.each(cases)('%s', (_case, statement, expected) => {
    expect(rulesFor(policy(statement))).toEqual(expected);
  });
});

const severities: Array<[string, Record<string, unknown>, string, string]> = [
  [
    'rate unpinned anonymous writes critical',
    stmt({ Principal: ['*'], Action: ['oss:PutObject'] }),
    'public-write',
    'critical',
  ],
  [
    'rate anonymous writes pinned to a VPC high',
    stmt({ Principal: ['*'], Action: ['oss:PutObject'], Condition: VPC }),
    'public-write',
    'high',
  ],
  ['rate anonymous access high', stmt({ Principal: ['*'] }), 'anonymous-principal', 'high'],
  ['rate oss:* inside the account medium', stmt({ Action: ['oss:*'] }), 'wildcard-action', 'medium'],
  [
    'rate oss:* for a stranger high',
    stmt({ Principal: [STRANGER], Action: ['oss:*'] }),
    'wildcard-action',
    'high',
  ],
  ['rate a read/write mixing wildcard low', stmt({ Action: ['oss:*Object'] }), 'wildcard-action', 'low'],
  ['rate a whole-bucket grant low', stmt({ Resource: '*' }), 'whole-bucket-resource', 'low'],
  ['rate plain HTTP medium', stmt({ Condition: undefined }), 'no-https-condition', 'medium'],
  [
    'rate a stranger from anywhere medium',
    stmt({ Principal: [STRANGER] }),
    'no-source-restriction',
    'medium',
  ],
  [
    'rate a stranger who reads medium',
    stmt({ Principal: [STRANGER] }),
    'foreign-account-principal',
    'medium',
  ],
  [
    'rate a stranger who writes high',
    stmt({ Principal: [STRANGER], Action: 'oss:PutObject' }),
    'foreign-account-principal',
    'high',
  ],
];

describe('severities', () => {
  it.each(severities)('%s', (_case, statement, rule, severity) => {
    const finding = analysePolicy(policy(statement), ctx).findings.find((f) => f.rule === rule);
    expect(finding?.severity).toBe(severity);
  });
});

const httpsDeny = (patch: Record<string, unknown> = {}) => ({
  Effect: 'Deny',
  Principal: ['*'],
  Action: ['oss:*'],
  Resource: [BUCKET_ARN, `${BUCKET_ARN}/*`],
  Condition: { Bool: { 'acs:SecureTransport': ['false'] } },
  ...patch,
});

const httpsCases: Array<[string, Record<string, unknown>, boolean]> = [
  ['count a Deny-if-not-HTTPS for everyone on the whole bucket', httpsDeny(), false],
  [
    'count a Deny that names the same principal and a wider prefix',
    httpsDeny({ Principal: [RAM_USER], Resource: `${BUCKET_ARN}/rep*` }),
    false,
  ],
  [
    'count a Deny whose "?" stands for one character',
    httpsDeny({ Resource: `${BUCKET_ARN}/report?/*` }),
    false,
  ],
  [
    'not count a Deny whose "?" needs one more character',
    httpsDeny({ Resource: `${BUCKET_ARN}/reports?/*` }),
    true,
  ],
  ['not count a Deny on another prefix', httpsDeny({ Resource: [`${BUCKET_ARN}/public/*`] }), true],
  ['not count a Deny of other actions', httpsDeny({ Action: ['oss:PutObject'] }), true],
  [
    'not count a Deny with a further condition, which narrows it',
    httpsDeny({ Condition: { Bool: { 'acs:SecureTransport': ['false'] }, ...VPC } }),
    true,
  ],
  ['not count an Allow-if-not-HTTPS', httpsDeny({ Effect: 'Allow' }), true],
];

describe('no-https-condition across statements', () => {
  it.each(httpsCases)('%s', (_case, other, flagged) => {
    const findings = analysePolicy(policy(stmt({ Condition: undefined }), other), ctx).findings;
    expect(findings.some((f) => f.rule === 'no-https-condition' && f.statement === 0)).toBe(flagged);
  });
});

describe('wildcard matching', () => {
  it('stays fast on patterns built to make a regex backtrack', () => {
    const deny = httpsDeny({ Resource: [`${BUCKET_ARN}/${'*a'.repeat(40)}b`] });
    const allow = stmt({ Condition: undefined, Resource: [`${BUCKET_ARN}/${'a'.repeat(20_000)}`] });
    const started = performance.now();
    expect(rulesFor(policy(allow, deny))).toContain('no-https-condition');
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});

describe('ownership', () => {
  it('treats every fixed principal as foreign when the owner is unknown', () => {
    expect(
      rulesFor(policy(stmt({ Principal: [OWNER] })), { bucket: 'examplebucket', ownerAccountId: '' }),
    ).toContain('foreign-account-principal');
  });

  it('accepts the RAM users it is told about', () => {
    expect(
      rulesFor(policy(stmt()), {
        bucket: 'examplebucket',
        ownerAccountId: OWNER,
        knownPrincipals: [RAM_USER],
      }),
    ).toEqual([]);
  });
});

describe('fixes', () => {
  it('rewrite the statement as JSON that parses and carries the change', () => {
    const [finding] = analysePolicy(policy(stmt({ Principal: [STRANGER, RAM_USER] })), ctx).findings.filter(
      (f) => f.rule === 'foreign-account-principal',
    );
    const rewritten = JSON.parse(/drop them: (\{.*\}); or/.exec(finding?.fix ?? '')?.[1] ?? 'null');
    expect(rewritten.Principal).toEqual([RAM_USER]);
  });

  it('narrow an anonymous write grant to its reads', () => {
    const fix = analysePolicy(policy(stmt({ Principal: ['*'], Action: ['oss:*'] })), ctx).findings.find(
      (f) => f.rule === 'public-write',
    )?.fix;
    const rewritten = JSON.parse(/(\{.*\});/.exec(fix ?? '')?.[1] ?? 'null');
    expect(rewritten.Action).toContain('oss:GetObject');
    expect(rewritten.Action).not.toContain('oss:PutObject');
  });

  it('give the Deny-if-not-HTTPS statement for the bucket', () => {
    const fix = analysePolicy(policy(stmt({ Condition: undefined })), ctx).findings[0]?.fix ?? '';
    const deny = JSON.parse(/policy: (\{.*\}); or/.exec(fix)?.[1] ?? 'null');
    expect(deny.Resource).toEqual([BUCKET_ARN, `${BUCKET_ARN}/*`]);
    expect(rulesFor(policy(stmt({ Condition: undefined }), deny))).toEqual([]);
  });
});
