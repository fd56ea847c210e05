import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DingTalkSink } from '../../local/dingtalk/sink';
import { IdentityStore } from '../../local/identity';
import { OssEmulator } from '../../local/oss';
import { LocalSmtpServer } from '../../local/smtp/server';
import { createAlertDispatcher } from '../../shared/alerts/dispatch';
import { OssWindowBudget } from '../../shared/alerts/shared-budget';
import { CallLog } from '../../shared/clients/calllog';
import { OssClientFactory, OssGateway } from '../../shared/clients/oss';
import { parseConfig, type Runtime } from '../../shared/config/load';
import { manyAlerts } from '../unit/alerts-fixtures';

// Fake credentials only.
const SECRET = 'SECfake0shared0budget';
const BUCKET = 'ossguard-audit-budget';
const PREFIX = 'ossguard/audit/';
const REGION = 'cn-hangzhou';
const ROBOT_LIMIT_PER_MINUTE = 20;

const identities = new IdentityStore();
const oss = new OssEmulator({ identities });
const sink = new DingTalkSink({ robots: { shared: { secret: SECRET } } });
const smtp = new LocalSmtpServer();
let gateway: OssGateway;
let runtime: Runtime;

beforeAll(async () => {
  const endpoint = await oss.listen();
  await sink.listen();
  const smtpPort = await smtp.listen();
  const factory = new OssClientFactory({ credentials: identities.rootKey, endpoint });
  await factory.client(REGION).putBucket(BUCKET);
  gateway = new OssGateway(factory, REGION, new CallLog());
  const config = parseConfig(
    JSON.stringify({
      audit: { bucket: BUCKET, prefix: PREFIX },
      alerts: {
        dingtalk: { webhook: sink.webhook('shared') },
        email: {
          host: '127.0.0.1',
          port: smtpPort,
          secure: false,
          from: 'og@local.test',
          to: ['sec@local.test'],
        },
      },
    }),
  );
  runtime = { config, secrets: { dingtalkSecret: SECRET }, endpoints: {} };
});

afterAll(async () => {
  await Promise.all([oss.close(), sink.close(), smtp.close()]);
});

/** One function instance: its own dispatcher (its own per-process limit), the budget in the shared bucket. */
const instance = () =>
  createAlertDispatcher(
    runtime,
    (webhook) =>
      new OssWindowBudget({ gateway, bucket: BUCKET, prefix: PREFIX, webhook, limit: 10, windowMs: 60_000 }),
  );

describe('two instances alerting at once through one DingTalk robot', () => {
  it('stay within the robot limit together, and every alert reaches DingTalk or says why not, and the email', async () => {
    const alerts = manyAlerts(60);
    const [first, second] = [alerts.slice(0, 30), alerts.slice(30)];
    const results = await Promise.all([instance()(first), instance()(second)]);

    // The robot never answered "send too fast": no message was refused, so none was silently lost.
    expect(sink.requests('shared').filter((r) => r.errcode !== undefined && r.errcode !== 0)).toEqual([]);
    const messages = sink.messages('shared');
    expect(messages.length).toBeLessThanOrEqual(ROBOT_LIMIT_PER_MINUTE);
    const texts = messages.map((m) => JSON.stringify(m.body)).join('\n');
    const mails = smtp
      .messages()
      .map((m) => m.mail.text ?? '')
      .join('\n');
    for (const alert of alerts) {
      const byChannel = new Map(results.flatMap((r) => r.get(alert.id) ?? []).map((d) => [d.channel, d]));
      expect(byChannel.get('email')?.ok, alert.id).toBe(true);
      expect(mails).toContain(alert.title);
      const dingtalk = byChannel.get('dingtalk');
      if (dingtalk?.ok) expect(texts).toContain(alert.title.replace(/^\[ossguard\] /, ''));
      else expect(dingtalk?.error, alert.id).toMatch(/rate budget of the robot used up/);
    }
  }, 60_000);
});
