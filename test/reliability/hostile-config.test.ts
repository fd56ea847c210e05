import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../shared/config';
import { ConfigValidationError } from '../../shared/errors';
import { hostileJson, hostileText } from './hostile-strings';

const VALID = {
  audit: { bucket: 'ossguard-audit' },
  alerts: {
    dingtalk: { webhook: 'https://oapi.dingtalk.com/robot/send?access_token=tok3n' },
    email: { host: 'smtpdm.aliyun.com', from: 'ossguard@example.com', to: ['secops@example.com'] },
  },
  exceptions: { buckets: [{ bucket: 'public-*', reason: 'website' }] },
};

const PATHS = [
  [],
  ['audit'],
  ['audit', 'bucket'],
  ['audit', 'prefix'],
  ['alerts', 'dingtalk', 'webhook'],
  ['alerts', 'dingtalk', 'mentions'],
  ['alerts', 'email', 'host'],
  ['alerts', 'email', 'to'],
  ['alerts', 'routes'],
  ['exceptions', 'buckets'],
  ['rules'],
  ['maxRemediationsPerInvocation'],
] as const;

function withValue(path: readonly string[], value: unknown): unknown {
  if (path.length === 0) return value;
  const copy = structuredClone(VALID) as Record<string, unknown>;
  let at = copy;
  for (const key of path.slice(0, -1)) at = at[key] as Record<string, unknown>;
  at[path.at(-1) as string] = value;
  return copy;
}

/** The only outcomes allowed: a config, or a ConfigValidationError whose issues name keys. */
function parsesOrRejects(text: string): void {
  try {
    parseConfig(text);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigValidationError);
    expect((error as ConfigValidationError).issues.length).toBeGreaterThan(0);
  }
}

function issuesOf(config: unknown): Array<{ key: string; message: string }> {
  try {
    parseConfig(JSON.stringify(config));
    return [];
  } catch (error) {
    if (!(error instanceof ConfigValidationError)) throw error;
    return error.issues;
  }
}

describe('config loading under hostile input', () => {
  it('parses the valid base config', () => {
    expect(issuesOf(VALID)).toEqual([]);
  });

  it('answers any text with a config or a ConfigValidationError', () => {
    fc.assert(fc.property(hostileText, parsesOrRejects), { numRuns: 300 });
  });

  it('answers a valid config with hostile values anywhere with a config or a ConfigValidationError', () => {
    fc.assert(
      fc.property(fc.constantFrom(...PATHS), hostileJson, (path, value) => {
        parsesOrRejects(JSON.stringify(withValue(path, value)) ?? 'null');
      }),
      { numRuns: 400 },
    );
  });

  it.each([
    [
      'a YAML alias bomb',
      'a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d]',
    ],
    ['a YAML tag asking for code', 'audit: !!js/function "function () { return 1 }"'],
    ['a document stream', 'audit: {bucket: abc}\n---\naudit: {bucket: def}'],
    ['a binary blob', '\u0000\u0001\u0002\uFFFE'],
  ])('rejects %s with a ConfigValidationError', (_case, text) => {
    expect(() => parseConfig(text)).toThrow(ConfigValidationError);
  });
});

describe('alert destinations taken from the config', () => {
  const withWebhook = (webhook: string) => ({ ...VALID, alerts: { dingtalk: { webhook } } });
  const withHost = (host: string) => ({ ...VALID, alerts: { email: { ...VALID.alerts.email, host } } });

  it.each([
    ['plain http to another host', 'http://oapi.dingtalk.com/robot/send?access_token=tok3n'],
    ['no access_token', 'https://oapi.dingtalk.com/robot/send'],
    ['an empty access_token', 'https://oapi.dingtalk.com/robot/send?access_token='],
    ['user info', 'https://user:pw@oapi.dingtalk.com/robot/send?access_token=tok3n'],
    ['a javascript: URL', 'javascript:alert(1)//?access_token=tok3n'],
    ['a file: URL', 'file:///etc/passwd?access_token=tok3n'],
    ['a header injection', 'https://oapi.dingtalk.com/robot/send?access_token=tok3n\r\nX-Injected: 1'],
    ['a tab the URL parser would drop', 'https://oapi.ding\ttalk.com/robot/send?access_token=tok3n'],
    ['no URL at all', 'oapi.dingtalk.com/robot/send?access_token=tok3n'],
  ])('refuses a DingTalk webhook with %s, without echoing its token', (_case, webhook) => {
    const issues = issuesOf(withWebhook(webhook));
    expect(issues.map((i) => i.key)).toContain('alerts.dingtalk.webhook');
    expect(JSON.stringify(issues)).not.toContain('tok3n');
  });

  it.each([
    ['the DingTalk robot URL', 'https://oapi.dingtalk.com/robot/send?access_token=tok3n'],
    ['the local cloud robot', 'http://127.0.0.1:40123/robot/send?access_token=local'],
  ])('accepts %s', (_case, webhook) => {
    expect(issuesOf(withWebhook(webhook))).toEqual([]);
  });

  it.each([
    ['a header injection', 'smtp.example.com\r\nRCPT TO:<attacker@evil.example>'],
    ['a URL', 'smtps://smtp.example.com:465'],
    ['an option-like name', '-oProxyCommand=touch'],
    ['a leading dot', '.example.com'],
    ['an empty label', 'smtp..example.com'],
    ['a space', 'smtp example.com'],
    ['user info', 'user@smtp.example.com'],
    ['an over-long label', `${'a'.repeat(64)}.example.com`],
  ])('refuses an SMTP host with %s', (_case, host) => {
    expect(issuesOf(withHost(host)).map((i) => i.key)).toContain('alerts.email.host');
  });

  it.each([['smtpdm.aliyun.com'], ['127.0.0.1'], ['::1'], ['[::1]'], ['localhost']])(
    'accepts the SMTP host %s',
    (host) => {
      expect(issuesOf(withHost(host))).toEqual([]);
    },
  );
});
