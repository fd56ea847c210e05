import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DingTalkSink } from '../../local/dingtalk/sink';
import { LocalSmtpServer } from '../../local/smtp/server';
import { createAlertDispatcher } from '../../shared/alerts/dispatch';
import { parseConfig, type Runtime, type Secrets } from '../../shared/config/load';
import { ConfigValidationError } from '../../shared/errors';
import { makeAlert } from '../unit/alerts-fixtures';

// Fake credentials only.
const SECRET = 'SECfake0router0secret';
const SMTP = { user: 'alerts@example.test', password: 'fake-router-smtp-password' };

let sink: DingTalkSink;
let smtp: LocalSmtpServer;
let smtpPort: number;

beforeAll(async () => {
  sink = new DingTalkSink({ robots: { routed: { secret: SECRET } } });
  await sink.listen();
  smtp = new LocalSmtpServer({ auth: SMTP });
  smtpPort = await smtp.listen();
});

afterAll(async () => {
  await sink.close();
  await smtp.close();
});

function runtime(alerts: Record<string, unknown>, secrets: Secrets): Runtime {
  const config = parseConfig(JSON.stringify({ audit: { bucket: 'ossguard-audit-test' }, alerts }));
  return { config, secrets, endpoints: {} };
}

const channels = () => ({
  dingtalk: { webhook: sink.webhook('routed') },
  email: {
    host: '127.0.0.1',
    port: smtpPort,
    secure: false,
    user: SMTP.user,
    from: SMTP.user,
    to: ['sec@example.test'],
  },
});

const routes = [
  { channel: 'dingtalk', minSeverity: 'high' },
  { channel: 'dingtalk', rules: ['bucket-acl-public-read'] },
  { channel: 'email', minSeverity: 'low' },
];

const critical = makeAlert({ id: 'crit', severity: 'critical', rules: ['account-bpa-disabled'] });
const lowAcl = makeAlert({ id: 'low-acl', severity: 'low', rules: ['bucket-acl-public-read'] });
const info = makeAlert({ id: 'info', severity: 'info', rules: ['key-untrusted-source'] });

const channelsOf = (results: Map<string, Array<{ channel: string; ok: boolean }>>) =>
  Object.fromEntries([...results].map(([id, list]) => [id, list.map((r) => `${r.channel}:${r.ok}`)]));

describe('dispatching alerts from the config to DingTalk and email', () => {
  it('sends each alert to the channels its severity and rules route it to', async () => {
    const dispatch = createAlertDispatcher(
      runtime({ ...channels(), routes }, { dingtalkSecret: SECRET, smtpPassword: SMTP.password }),
    );
    const results = await dispatch([critical, lowAcl, info]);
    expect(channelsOf(results)).toEqual({
      crit: ['dingtalk:true', 'email:true'],
      'low-acl': ['dingtalk:true', 'email:true'],
      info: [],
    });
    const posted = sink.messages('routed').map((m) => JSON.stringify(m.body));
    expect(posted.filter((b) => b.includes('ossguard alert crit '))).toHaveLength(1);
    expect(posted.some((b) => b.includes('ossguard alert info'))).toBe(false);
  });

  it('returns a failing channel as a failed result while the other still delivers', async () => {
    const dispatch = createAlertDispatcher(
      runtime(channels(), { dingtalkSecret: 'SECfake0wrong', smtpPassword: SMTP.password }),
    );
    const before = smtp.messages().length;
    const results = await dispatch([critical]);
    expect(results.get('crit')).toEqual([
      { channel: 'dingtalk', ok: false, attempts: 1, error: 'errcode 310000: sign not match' },
      { channel: 'email', ok: true, attempts: 1 },
    ]);
    expect(smtp.messages()).toHaveLength(before + 1);
  });

  it.each([
    [
      'a route to a channel that is not configured',
      () => ({ email: channels().email, routes: [{ channel: 'dingtalk' }] }),
      { smtpPassword: SMTP.password },
      /alerts: alerts\.routes\[0\]\.channel: dingtalk is not a configured channel/,
    ],
    [
      'an SMTP user without OSSGUARD_SMTP_PASSWORD',
      () => ({ email: channels().email }),
      {},
      /OSSGUARD_SMTP_PASSWORD: must be set when alerts\.email\.user is configured/,
    ],
  ])('fails at init on %s', (_case, alerts, secrets: Secrets, message) => {
    expect(() => createAlertDispatcher(runtime(alerts(), secrets))).toThrow(ConfigValidationError);
    expect(() => createAlertDispatcher(runtime(alerts(), secrets))).toThrow(message);
  });
});
