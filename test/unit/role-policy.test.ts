import { describe, expect, it } from 'vitest';
import { declaredActions, grantedActions, ROLE_POLICY_TEMPLATE, TRUST_POLICY } from '../../deploy/role';
import { ramActionOf } from '../../local/oss/authorization';
import { auditKey } from '../../shared/audit/record';
import { isAllowed, parseRamPolicy, RamPolicyError } from '../../shared/deployment/ram-policy';
import { renderRolePolicy } from '../../shared/deployment/role-policy';
import { snapshotKey } from '../../shared/guards/policy-snapshots';
import { SWEEP_PREFIX } from '../../shared/sweep/progress-checkpoint';

const AUDIT = { bucket: 'corp-ossguard-audit', prefix: 'ossguard/audit/' };
const ACCOUNT = '1234567890123456';
const policy = renderRolePolicy(ROLE_POLICY_TEMPLATE, AUDIT, ACCOUNT);
const statements = parseRamPolicy(policy);
const oss = (bucket: string, key?: string) =>
  `acs:oss:cn-hangzhou:1234567890123456:${bucket}${key ? `/${key}` : ''}`;
const ramUser = (name: string) => `acs:ram:*:1234567890123456:user/${name}`;
const trail = (project: string, logstore: string) =>
  `acs:log:cn-hangzhou:1234567890123456:project/${project}/logstore/${logstore}`;

describe('the function role policy', () => {
  it('grants exactly the RAM actions that rules and the pipeline declare', () => {
    expect(grantedActions(policy)).toEqual(declaredActions());
  });

  it('declares every action in the oss:/ram:/log: or Security Center namespaces, as RAM names them', () => {
    for (const action of declaredActions())
      expect(action).toMatch(/^(oss|ram|log|yundun-aegis|yundun-sas):[A-Z][A-Za-z]+$/);
  });

  it('uses no wildcard action, no bare * resource (but for Security Center reads) and only Allow statements', () => {
    for (const statement of statements) {
      expect(statement.effect).toBe('Allow');
      for (const action of statement.actions) expect(action).not.toContain('*');
      // The leak calls authorise on all resources only (F-SAS-LEAK-LIST): read-only, and nothing else shares them.
      if (statement.actions.every((a) => /^yundun-(aegis|sas):Describe/.test(a))) {
        expect(statement.resources).toEqual(['*']);
        continue;
      }
      for (const resource of statement.resources) {
        expect(resource).toMatch(
          /^acs:(oss:\*:1234567890123456:[^*]|oss:\*:1234567890123456:\*|ram:\*:1234567890123456:(user|group|role|policy)\/|log:\*:1234567890123456:project\/\*\/logstore\/actiontrail_)/,
        );
        expect(resource).not.toBe('*');
      }
    }
  });

  it.each([
    ['reads and reverts any bucket ACL', 'oss:PutBucketAcl', oss('photos'), true],
    ['reads any object ACL', 'oss:GetObjectAcl', oss('photos', 'a/b.jpg'), true],
    [
      'writes audit records',
      'oss:PutObject',
      oss(AUDIT.bucket, auditKey(AUDIT.prefix, 'k', '2026-01-01T00:00:00Z')),
      true,
    ],
    [
      'checks whether an audit record exists',
      ramActionOf('HeadObject'),
      oss(AUDIT.bucket, `${AUDIT.prefix}x.json`),
      true,
    ],
    [
      'keeps policy snapshots',
      'oss:PutObject',
      oss(AUDIT.bucket, snapshotKey('photos', new Date(), 'e')),
      true,
    ],
    ['lists the audit bucket for snapshots and checkpoints', 'oss:ListObjects', oss(AUDIT.bucket), true],
    ['keeps sweep checkpoints', 'oss:PutObject', oss(AUDIT.bucket, `${SWEEP_PREFIX}run/000001.json`), true],
    ['lists the buckets to sweep', 'oss:ListBuckets', oss('*'), true],
    ['disables a RAM user key', 'ram:UpdateAccessKey', ramUser('alice'), true],
    ['reads a trail logstore (PullLogs)', 'log:GetCursorOrData', trail('corp', 'actiontrail_main'), true],
    ['does not read other logstores', 'log:GetCursorOrData', trail('corp', 'app-logs'), false],
    [
      'does not write to the trail logstore',
      'log:PostLogStoreLogs',
      trail('corp', 'actiontrail_main'),
      false,
    ],
    [
      'does not write objects elsewhere in the audit bucket',
      'oss:PutObject',
      oss(AUDIT.bucket, 'other/x'),
      false,
    ],
    ['does not write objects of other buckets', 'oss:PutObject', oss('photos', 'ossguard/audit/x'), false],
    ['does not read objects of other buckets', 'oss:GetObject', oss('photos', 'secret.txt'), false],
    // The sweep's object pass lists prefixes the audit log shows were exposed (names only, never content).
    ['lists objects of other buckets, for the sweep’s object pass', 'oss:ListObjects', oss('photos'), true],
    ['does not delete objects', 'oss:DeleteObject', oss(AUDIT.bucket, `${AUDIT.prefix}x.json`), false],
    ['does not delete buckets', 'oss:DeleteBucket', oss('photos'), false],
    [
      'does not write an audit bucket of the same name in another account',
      'oss:PutObject',
      `acs:oss:cn-hangzhou:1999999999999999:corp-ossguard-audit/${auditKey('ossguard/audit/', 'e', '2026-01-01T00:00:00Z')}`,
      false,
    ],
    ['does not create keys', 'ram:CreateAccessKey', ramUser('alice'), false],
    ['does not touch roles', 'ram:UpdateRole', 'acs:ram:*:1234567890123456:role/ossguard-fn', false],
  ])('%s', (_what, action, resource, allowed) => {
    expect(isAllowed(statements, action, resource)).toBe(allowed);
  });

  it('renders the audit write path from the config, and refuses unknown placeholders', () => {
    const other = renderRolePolicy(ROLE_POLICY_TEMPLATE, { bucket: 'b2', prefix: '' }, ACCOUNT);
    expect(isAllowed(parseRamPolicy(other), 'oss:PutObject', oss('b2', 'any.json'))).toBe(true);
    const unknown = ROLE_POLICY_TEMPLATE.replace('audit.prefix', 'audit.path');
    expect(() => renderRolePolicy(unknown, AUDIT, ACCOUNT)).toThrow(/unknown placeholder/);
  });

  it('is trusted by Function Compute only', () => {
    expect(JSON.parse(TRUST_POLICY)).toEqual({
      Version: '1',
      Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: ['fc.aliyuncs.com'] } }],
    });
  });
});

describe('the RAM policy evaluator of the local cloud', () => {
  const parse = (statement: object) =>
    parseRamPolicy(JSON.stringify({ Version: '1', Statement: [statement] }));

  it('lets an explicit Deny win over an Allow', () => {
    const both = parseRamPolicy(
      JSON.stringify({
        Version: '1',
        Statement: [
          { Effect: 'Allow', Action: 'oss:*', Resource: 'acs:oss:*:*:*' },
          { Effect: 'Deny', Action: 'oss:PutBucketAcl', Resource: 'acs:oss:*:*:photos' },
        ],
      }),
    );
    expect(isAllowed(both, 'oss:PutBucketAcl', oss('photos'))).toBe(false);
    expect(isAllowed(both, 'oss:PutBucketAcl', oss('docs'))).toBe(true);
  });

  it('matches actions without case and resources with case', () => {
    const statement = parse({ Effect: 'Allow', Action: 'OSS:getbucketacl', Resource: 'acs:oss:*:*:Photos' });
    expect(isAllowed(statement, 'oss:GetBucketAcl', oss('Photos'))).toBe(true);
    expect(isAllowed(statement, 'oss:GetBucketAcl', oss('photos'))).toBe(false);
  });

  it.each([
    ['Condition', { Effect: 'Allow', Action: 'oss:GetObject', Resource: '*', Condition: {} }],
    ['NotAction', { Effect: 'Allow', NotAction: 'oss:GetObject', Resource: '*' }],
    ['an unknown Effect', { Effect: 'allow', Action: 'oss:GetObject', Resource: '*' }],
    ['an empty Action list', { Effect: 'Allow', Action: [], Resource: '*' }],
  ])('refuses a statement with %s rather than guess', (_what, statement) => {
    expect(() => parse(statement)).toThrow(RamPolicyError);
  });
});
