import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DingTalkSink } from '../../local/dingtalk/sink';
import { IdentityStore } from '../../local/identity';
import { OssEmulator } from '../../local/oss';
import { LocalSmtpServer } from '../../local/smtp/server';
import { createAlertDispatcher } from '../../shared/alerts/dispatch';
import { OssWindowBudget } from '../../shared/alerts/shared-budget';
import type { Alert, DeliveryResult } from '../../shared/alerts/types';
import { CallLog } from '../../shared/clients/calllog';
import { OssClientFactory, OssGateway } from '../../shared/clients/oss';
import { parseConfig, type Runtime } from '../../shared/config/load';
import { makeAlert, manyAlerts } from '../unit/alerts-fixtures';

// Fake credentials only.
const SECRET = 'SECfake0shared0budget';
const BUCKET = 'ossguard-audit-budget';
const PREFIX = 'ossguard/audit/';
const REGION = 'cn-hangzhou';
const ROBOT_LIMIT_PER_MINUTE = 20;
/** Half the robot's 20 a minute per fixed minute, as the functions share it (shared/pipeline/handler.ts). */
const WINDOW_LIMIT = 10;
const MINUTE = 60_000;

const identities = new IdentityStore();
const oss = new OssEmulator({ identities });
const sink = new DingTalkSink({ robots: { shared: { secret: SECRET }, flood: { secret: SECRET } } });
const smtp = new LocalSmtpServer();
let gateway: OssGateway;
let runtime: Runtime;
let floodRuntime: Runtime;

beforeAll(async () => {
  const endpoint = await oss.listen();
  await sink.listen();
  const smtpPort = await smtp.listen();
  const factory = new OssClientFactory({ credentials: identities.rootKey, endpoint });
  await factory.client(REGION).putBucket(BUCKET);
  gateway = new OssGateway(factory, REGION, new CallLog());
  const runtimeFor = (robot: string): Runtime => ({
    config: parseConfig(
      JSON.stringify({
        audit: { bucket: BUCKET, prefix: PREFIX },
        alerts: {
          dingtalk: { webhook: sink.webhook(robot) },
          email: {
            host: '127.0.0.1',
            port: smtpPort,
            secure: false,
            from: 'og@local.test',
            to: ['sec@local.test'],
          },
        },
      }),
    ),
    secrets: { dingtalkSecret: SECRET },
    endpoints: {},
  });
  runtime = runtimeFor('shared');
  floodRuntime = runtimeFor('flood');
});

afterAll(async () => {
  await Promise.all([oss.close(), sink.close(), smtp.close()]);
});

/**
 * One function instance: its own dispatcher (its own per-process limit), the budget in the shared bucket.
 * `now` pins the budget's clock, so that a test's sends fall in one window whenever it runs.
 */
const instance = (config = runtime, now?: () => number) =>
  createAlertDispatcher(
    config,
    (webhook) =>
      new OssWindowBudget({
        gateway,
        bucket: BUCKET,
        prefix: PREFIX,
        webhook,
        limit: WINDOW_LIMIT,
        windowMs: MINUTE,
        ...(now ? { now } : {}),
      }),
  );

const mailTexts = () =>
  smtp
    .messages()
    .map((m) => m.mail.text ?? '')
    .join('\n');

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
    const mails = mailTexts();
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

describe('a flood of lesser alerting changes within one minute, each alerted by its own instance', () => {
  it('still lets the critical alert that follows it reach DingTalk, and every alert reaches the email', async () => {
    // Twelve low and medium alerts (object ACLs, say) at once, then the critical one, in one window.
    const minute = Date.UTC(2026, 11, 7, 3, 0, 0) + 5_000;
    const flood = Array.from({ length: 12 }, (_, i) =>
      makeAlert({
        id: `acs.actiontrail/flood-${i}`,
        severity: i % 2 ? 'low' : 'medium',
        title: `[ossguard] oss://flood/object-${i} needs attention`,
      }),
    );
    const critical = makeAlert({
      id: 'acs.actiontrail/after-the-flood',
      severity: 'critical',
      title: '[ossguard] bucket crown-jewels reverted',
    });
    const floodResults = await Promise.all(
      flood.map((alert) => instance(floodRuntime, () => minute)([alert])),
    );
    const criticalResult = await instance(floodRuntime, () => minute + 10_000)([critical]);

    const delivery = (results: Map<string, DeliveryResult[]>, alert: Alert, channel: string) =>
      results.get(alert.id)?.find((d) => d.channel === channel);
    expect(delivery(criticalResult, critical, 'dingtalk')).toEqual({
      channel: 'dingtalk',
      ok: true,
      attempts: 1,
    });
    const posted = sink.messages('flood').map((m) => JSON.stringify(m.body));
    expect(posted.filter((text) => text.includes('crown-jewels'))).toHaveLength(1);

    // The lesser alerts had the window's unreserved slots and no more; the rest failed at once, and said why.
    const lesser = flood.map((alert, i) => delivery(floodResults[i]!, alert, 'dingtalk'));
    expect(lesser.filter((d) => d?.ok)).toHaveLength(7);
    for (const failed of lesser.filter((d) => !d?.ok))
      expect(failed?.error).toBe(
        'rate budget of the robot used up for non-critical alerts by other instances',
      );
    expect(posted).toHaveLength(8);
    expect(sink.requests('flood').filter((r) => r.errcode !== undefined && r.errcode !== 0)).toEqual([]);

    const mails = mailTexts();
    for (const [i, alert] of flood.entries()) {
      expect(delivery(floodResults[i]!, alert, 'email')?.ok, alert.id).toBe(true);
      expect(mails).toContain(alert.title);
    }
    expect(delivery(criticalResult, critical, 'email')?.ok).toBe(true);
    expect(mails).toContain(critical.title);
  }, 60_000);
});

describe('the slots of one window of the shared budget', () => {
  let window = 0;
  /** A budget in a window of its own: every case starts from the slots it takes itself. */
  const freshBudget = () => {
    const start = Date.UTC(2026, 11, 8) + window++ * MINUTE;
    return new OssWindowBudget({
      gateway,
      bucket: BUCKET,
      prefix: PREFIX,
      webhook: sink.webhook('slots'),
      limit: WINDOW_LIMIT,
      windowMs: MINUTE,
      now: () => start,
    });
  };

  it.each([
    // slots already taken, the message carries a critical alert, it gets a slot
    [0, false, true],
    [6, false, true],
    [7, false, false],
    [9, false, false],
    [0, true, true],
    [7, true, true],
    [9, true, true],
    [10, true, false],
  ])('with %i of 10 taken, a message (critical: %s) gets one: %s', async (taken, critical, gets) => {
    const budget = freshBudget();
    for (let i = 0; i < taken; i++) expect(await budget.take(true)).toBe(0);
    expect(await budget.remaining()).toBe(Math.max(0, 7 - taken));
    const waited = await budget.take(critical);
    expect(waited === 0).toBe(gets);
    if (!gets) expect(waited).toBe(MINUTE);
  });

  it('gives ten instances racing for the last unreserved slot one slot only, and leaves the reserved three', async () => {
    const budget = freshBudget();
    for (let i = 0; i < 6; i++) await budget.take(true);
    const results = await Promise.all(Array.from({ length: 10 }, () => budget.take(false)));
    expect(results.filter((r) => r === 0)).toHaveLength(1);
    const critical = await Promise.all([1, 2, 3, 4].map(() => budget.take(true)));
    expect(critical.sort((a, b) => a - b)).toEqual([0, 0, 0, MINUTE]);
  });
});
