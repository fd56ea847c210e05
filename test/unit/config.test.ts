import { describe, expect, it, vi } from 'vitest';
import { loadRuntime, parseConfig } from '../../shared/config';
import { ConfigValidationError } from '../../shared/errors';

const valid = `
dryRun: false
rules:
  bucket-acl-public-read: enforce
  object-acl-public: alert
maxRemediationsPerInvocation: 10
ownRoleName: ossguard-fn
exceptions:
  buckets:
    - bucket: public-site-*
      reason: static website
      until: 2027-01-31
  users:
    - user: ci-deployer
      reason: legacy pipeline, migrating to STS
audit:
  bucket: acme-ossguard-audit
alerts:
  dingtalk:
    webhook: https://oapi.dingtalk.com/robot/send?access_token=abc
    mentions:
      critical: { isAtAll: true }
  email:
    host: smtpdm.aliyun.com
    from: ossguard@mail.example.com
    to: [secops@example.com]
accessKeys:
  allowedSourceCidrs: [10.0.0.0/8, 203.0.113.7]
`;

const issuesOf = (text: string) => {
  try {
    parseConfig(text);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigValidationError);
    return (error as ConfigValidationError).issues;
  }
  throw new Error('config was accepted');
};

describe('config validation at cold start', () => {
  it('loads a valid file and fills in defaults', () => {
    const config = parseConfig(valid);
    expect(config.rules).toEqual({ 'bucket-acl-public-read': 'enforce', 'object-acl-public': 'alert' });
    expect(config.audit).toEqual({ bucket: 'acme-ossguard-audit', prefix: 'ossguard/audit/' });
    expect(config.exceptions.buckets[0]).toEqual({
      bucket: 'public-site-*',
      reason: 'static website',
      until: '2027-01-31',
    });
    expect(config.exceptions.tagKey).toBe('ossguard-exception');
    expect(config.alerts.email).toMatchObject({ port: 465, secure: true });
    expect(config.policy).toEqual({
      mode: 'alert',
      trustedAccounts: [],
      knownPrincipals: [],
      failOn: 'high',
    });
  });

  it('accepts the same config written as JSON', () => {
    expect(parseConfig(JSON.stringify({ audit: { bucket: 'audit-bkt' } })).dryRun).toBe(false);
  });

  it('gives JSON and YAML of the same config the same result', () => {
    const yaml = parseConfig(valid);
    expect(parseConfig(JSON.stringify(yaml))).toEqual(yaml);
  });

  it.each([
    ['a YAML flow mapping, which JSON.parse refuses', '{audit: {bucket: abc}, dryRun: true}'],
    [
      'JSON with a colon and an escaped quote inside a value',
      '{"audit": {"bucket": "abc", "prefix": ""}, "ownRoleName": "a:\\"b"}',
    ],
  ])('reads %s', (_case, text) => {
    expect(parseConfig(text).audit.bucket).toBe('abc');
  });

  it.each([
    ['at the top', '{"audit": {"bucket": "abc"}, "dryRun": true, "dryRun": false}'],
    ['nested', '{"audit": {"bucket": "abc", "bucket": "def"}}'],
  ])('refuses JSON that repeats a key %s, as YAML does', (_case, text) => {
    expect(issuesOf(text)).toEqual([{ key: '(file)', message: 'is neither valid YAML nor JSON' }]);
  });

  it('names an unknown key in JSON as in YAML', () => {
    expect(issuesOf('{"audit": {"bucket": "abc"}, "dryrun": true}')).toEqual([
      { key: 'dryrun', message: 'is not a known setting' },
    ]);
  });

  it.each([
    ['an unknown top-level key', 'audit: {bucket: abc}\ndryrun: true', 'dryrun', /not a known setting/],
    ['an unknown nested key', 'audit: {bucket: abc, prefx: a/}', 'audit.prefx', /not a known setting/],
    [
      'a wrong mode',
      'audit: {bucket: abc}\nrules: {bucket-acl-public-read: revert}',
      'rules.bucket-acl-public-read',
      /enforce|alert|off/,
    ],
    [
      'an unknown rule id',
      'audit: {bucket: abc}\nrules: {bucket-acl-public: enforce}',
      'rules.bucket-acl-public',
      /not a rule id/,
    ],
    [
      'a malformed expiry',
      'audit: {bucket: abc}\nexceptions: {buckets: [{bucket: x, reason: web, until: 31/01/2027}]}',
      'exceptions.buckets.0.until',
      /YYYY-MM-DD/,
    ],
    [
      'an impossible expiry date',
      'audit: {bucket: abc}\nexceptions: {buckets: [{bucket: x, reason: web, until: 2027-02-30}]}',
      'exceptions.buckets.0.until',
      /real calendar date/,
    ],
    ['a missing audit bucket', 'dryRun: true', 'audit', /expected object/],
    ['an invalid audit bucket name', 'audit: {bucket: Bad_Name}', 'audit.bucket', /valid OSS bucket name/],
    [
      'a wildcard as a known principal',
      'audit: {bucket: abc}\npolicy: {knownPrincipals: ["*"]}',
      'policy.knownPrincipals.0',
      /must be a UID or a RAM user\/role ARN/,
    ],
    [
      'a plain-http webhook',
      'audit: {bucket: abc}\nalerts: {dingtalk: {webhook: "http://evil.example.com/x"}}',
      'alerts.dingtalk.webhook',
      /https/,
    ],
    [
      "a DingTalk robot budget above DingTalk's 20 a minute",
      'audit: {bucket: abc}\nalerts: {dingtalk: {webhook: "https://x.y/z?access_token=t", messagesPerMinute: 21}}',
      'alerts.dingtalk.messagesPerMinute',
      /at most 20/,
    ],
    [
      'an SMTP host with a newline',
      'audit: {bucket: abc}\nalerts: {email: {host: "a.com\\r\\nRCPT", from: a@b.c, to: [c@d.e]}}',
      'alerts.email.host',
      /host name/,
    ],
    [
      'a secret in the file',
      'audit: {bucket: abc}\nalerts: {dingtalk: {webhook: "https://x.y/z", secret: "s3cr3t"}}',
      'alerts.dingtalk.secret',
      /environment/,
    ],
    [
      'a bad CIDR',
      'audit: {bucket: abc}\naccessKeys: {allowedSourceCidrs: [10.0.0.0/33]}',
      'accessKeys.allowedSourceCidrs.0',
      /CIDR/,
    ],
    [
      'a negative blast-radius cap',
      'audit: {bucket: abc}\nmaxRemediationsPerInvocation: -1',
      'maxRemediationsPerInvocation',
      /./,
    ],
  ])('rejects %s with a message naming the key', (_case, text, key, message) => {
    const issues = issuesOf(text);
    const issue = issues.find((i) => i.key === key);
    expect(issue, JSON.stringify(issues)).toBeDefined();
    expect(issue?.message).toMatch(message);
  });

  it('takes a lower DingTalk budget for any robot, and a higher one only for a robot on this machine', () => {
    const robot = (webhook: string, perMinute: number) =>
      parseConfig(
        `audit: {bucket: abc}\nalerts: {dingtalk: {webhook: "${webhook}", messagesPerMinute: ${perMinute}}}`,
      ).alerts.dingtalk?.messagesPerMinute;
    expect(robot('https://oapi.dingtalk.com/robot/send?access_token=t', 6)).toBe(6);
    expect(robot('http://127.0.0.1:9/robot/send?access_token=t', 600)).toBe(600);
  });

  it('never echoes a secret value in the error', () => {
    try {
      parseConfig(
        'audit: {bucket: abc}\nalerts: {dingtalk: {webhook: "https://x.y/z", secret: "s3cr3t-value"}}',
      );
      expect.unreachable();
    } catch (error) {
      expect(String((error as Error).message)).not.toContain('s3cr3t-value');
    }
  });
});

describe('the organization section', () => {
  const B = '1111111111111111';

  it.each([
    ['no section: one account, as before', '', undefined],
    [
      'every account of the directory',
      'organization: {accounts: all}',
      { accounts: 'all', memberRole: 'ossguard-member' },
    ],
    [
      'an allow list and a role of its own',
      `organization: {accounts: ["${B}"], memberRole: guard-member}`,
      { accounts: [B], memberRole: 'guard-member' },
    ],
  ])('accepts %s', (_case, text, expected) => {
    expect(parseConfig(`audit: {bucket: abc}\n${text}`).organization).toEqual(expected);
  });

  it.each([
    [
      'an account id that is not digits',
      'organization: {accounts: [prod]}',
      'organization.accounts',
      /account id/,
    ],
    ['an empty allow list', 'organization: {accounts: []}', 'organization.accounts', /at least one account/],
    [
      'an account named twice',
      `organization: {accounts: ["${B}", "${B}"]}`,
      'organization.accounts',
      /twice/,
    ],
    ['a section without accounts', 'organization: {memberRole: x}', 'organization.accounts', /./],
    [
      'a role name RAM refuses',
      'organization: {accounts: all, memberRole: "a/b"}',
      'organization.memberRole',
      /role name/,
    ],
    [
      'a member role too long for its operator role (<memberRole>-operator) to fit in 64 characters',
      `organization: {accounts: all, memberRole: ${'m'.repeat(56)}}`,
      'organization.memberRole',
      /at most 55 characters/,
    ],
    [
      'a session name (it is fixed)',
      'organization: {accounts: all, sessionName: me}',
      'organization.sessionName',
      /./,
    ],
    [
      'an exception scoped to a non-id',
      'exceptions: {buckets: [{bucket: x, reason: web, accounts: [prod]}]}',
      'exceptions.buckets.0.accounts.0',
      /account id/,
    ],
  ])('rejects %s with a message naming the key', (_case, text, key, message) => {
    const issues = issuesOf(`audit: {bucket: abc}\n${text}`);
    const issue = issues.find((i) => i.key === key || i.key.startsWith(key));
    expect(issue, JSON.stringify(issues)).toBeDefined();
    expect(issue?.message).toMatch(message);
  });
});

describe('YAML that reads differently from how it looks', () => {
  it.each([
    ['an unknown directive', '%FOO bar\n---\ndryRun: true\n'],
    ['an unresolved tag', 'dryRun: !!js/function true\n'],
  ])('refuses %s as a config error, and prints no YAMLWarning', (_what, text) => {
    const warn = vi.spyOn(process, 'emitWarning');
    try {
      expect(() => parseConfig(text)).toThrow(ConfigValidationError);
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
  });
});

describe('runtime loading from the environment', () => {
  const base = { OSSGUARD_CONFIG: 'audit: {bucket: abc}' };

  it('reads secrets and endpoint overrides from their variables', () => {
    const runtime = loadRuntime({
      ...base,
      OSSGUARD_SMTP_PASSWORD: 'pw',
      OSSGUARD_OSS_ENDPOINT: 'http://127.0.0.1:9000/',
    });
    expect(runtime.secrets).toEqual({ smtpPassword: 'pw' });
    expect(runtime.endpoints).toEqual({ oss: 'http://127.0.0.1:9000' });
  });

  it.each([
    ['no config at all', {}, 'OSSGUARD_CONFIG'],
    [
      'a DingTalk robot without its secret',
      {
        OSSGUARD_CONFIG:
          'audit: {bucket: abc}\nalerts: {dingtalk: {webhook: "https://x.y/z?access_token=t"}}',
      },
      'OSSGUARD_DINGTALK_SECRET',
    ],
    [
      'an endpoint with a path',
      { ...base, OSSGUARD_RAM_ENDPOINT: 'http://127.0.0.1:1/x' },
      'OSSGUARD_RAM_ENDPOINT',
    ],
    [
      'an unreadable config file',
      { OSSGUARD_CONFIG_FILE: '/nonexistent/ossguard.yaml' },
      'OSSGUARD_CONFIG_FILE',
    ],
  ])('fails at init on %s, naming the variable', (_case, env, key) => {
    expect(() => loadRuntime(env)).toThrow(ConfigValidationError);
    try {
      loadRuntime(env);
    } catch (error) {
      expect((error as ConfigValidationError).issues.map((i) => i.key)).toContain(key);
    }
  });
});
