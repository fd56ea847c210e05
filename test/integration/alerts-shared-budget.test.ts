import { createHash, randomBytes } from 'node:crypto';
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
import { previousRuntimeAuditKey, runtimeAuditKey } from '../../shared/config/secrets';
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
/** The audit key the functions sign with (fake): what a writer of the audit bucket does not have. */
const AUDIT_KEY = 'fake-audit-key-0shared0budget';

const identities = new IdentityStore();
const oss = new OssEmulator({ identities });
const sink = new DingTalkSink({
  robots: {
    shared: { secret: SECRET },
    flood: { secret: SECRET },
    planted: { secret: SECRET },
    'planted-unkeyed': { secret: SECRET },
    observed: { secret: SECRET },
    rotation: { secret: SECRET },
  },
});
const smtp = new LocalSmtpServer();
let gateway: OssGateway;
let runtime: Runtime;
let floodRuntime: Runtime;
let plantedRuntime: Runtime;
let unkeyedRuntime: Runtime;
let observedRuntime: Runtime;
/** Instances before and after the audit key's rotation: the old version, and the new with the old as previous. */
let unrotatedRuntime: Runtime;
let rotatedRuntime: Runtime;

beforeAll(async () => {
  const endpoint = await oss.listen();
  await sink.listen();
  const smtpPort = await smtp.listen();
  const factory = new OssClientFactory({ credentials: identities.rootKey, endpoint });
  await factory.client(REGION).putBucket(BUCKET);
  gateway = new OssGateway(factory, REGION, new CallLog());
  const runtimeFor = (robot: string, auditKey = AUDIT_KEY, rotation: Partial<Runtime> = {}): Runtime => ({
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
    secrets: { dingtalkSecret: SECRET, ...(auditKey ? { auditKey } : {}) },
    endpoints: {},
    ...rotation,
  });
  runtime = runtimeFor('shared');
  floodRuntime = runtimeFor('flood');
  plantedRuntime = runtimeFor('planted');
  unkeyedRuntime = runtimeFor('planted-unkeyed', '');
  observedRuntime = runtimeFor('observed');
  unrotatedRuntime = runtimeFor('rotation', AUDIT_KEY, { secretVersions: { auditKey: 'v1' } });
  rotatedRuntime = runtimeFor('rotation', `${AUDIT_KEY}-v2`, {
    secretVersions: { auditKey: 'v2' },
    previousAuditKey: { value: AUDIT_KEY, versionId: 'v1' },
  });
});

afterAll(async () => {
  await Promise.all([oss.close(), sink.close(), smtp.close()]);
});

/**
 * One function instance: its own dispatcher (its own per-process limit), the budget in the shared bucket.
 * `now` pins the budget's clock, so that a test's sends fall in one window whenever it runs.
 */
const instance = (config = runtime, now?: () => number) =>
  createAlertDispatcher(config, (webhook) => {
    // As the functions build it (shared/pipeline/handler.ts): keyed with the runtime's audit key.
    const key = runtimeAuditKey(config);
    const previousKey = previousRuntimeAuditKey(config);
    return new OssWindowBudget({
      gateway,
      bucket: BUCKET,
      prefix: PREFIX,
      webhook,
      limit: WINDOW_LIMIT,
      windowMs: MINUTE,
      ...(key ? { key } : {}),
      ...(previousKey ? { previousKey } : {}),
      ...(now ? { now } : {}),
    });
  });

const mailTexts = () =>
  smtp
    .messages()
    .map((m) => m.mail.text ?? '')
    .join('\n');

const dingtalkOf = (results: Map<string, DeliveryResult[]>, alert: Alert) =>
  results.get(alert.id)?.find((d) => d.channel === 'dingtalk');

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

describe('a writer of the audit bucket who fills the next windows of the shared budget ahead of time', () => {
  /** Where the slots of a window were before they were keyed: a hash of the webhook and the window's start. */
  const guessableDirectory = (robot: string, start: number) =>
    `${PREFIX}alert-budget/${createHash('sha256').update(sink.webhook(robot)).digest('hex').slice(0, 16)}/${start}/`;
  /** Every slot name of a window, and names beside them that are no slot at all. */
  const plant = async (robot: string, start: number, names: string[]) => {
    for (const name of names)
      await gateway.putObjectIfAbsent(BUCKET, `${guessableDirectory(robot, start)}${name}`, '{}');
  };
  const slotNames = Array.from({ length: WINDOW_LIMIT }, (_, i) => String(i).padStart(3, '0'));
  const junkNames = ['junk-0', 'junk-1', '0000', '00', '000.tmp', 'a', 'b', 'c', 'd', 'e', 'f', 'g'];

  it('does not keep an ordinary or a critical alert off DingTalk when the functions have an audit key', async () => {
    const first = Date.UTC(2026, 11, 9, 4, 0, 0);
    for (const start of [first, first + MINUTE]) await plant('planted', start, [...slotNames, ...junkNames]);
    const ordinary = makeAlert({
      id: 'acs.actiontrail/planted-ordinary',
      severity: 'medium',
      title: '[ossguard] oss://planted/object needs attention',
    });
    const critical = makeAlert({
      id: 'acs.actiontrail/planted-critical',
      severity: 'critical',
      title: '[ossguard] bucket planted-jewels reverted',
    });
    const ordinaryResult = await instance(plantedRuntime, () => first + 1_000)([ordinary]);
    const criticalResult = await instance(plantedRuntime, () => first + MINUTE + 1_000)([critical]);

    expect(dingtalkOf(ordinaryResult, ordinary)).toEqual({ channel: 'dingtalk', ok: true, attempts: 1 });
    expect(dingtalkOf(criticalResult, critical)).toEqual({ channel: 'dingtalk', ok: true, attempts: 1 });
    const posted = sink.messages('planted').map((m) => JSON.stringify(m.body));
    expect(posted.filter((text) => text.includes('oss://planted/object'))).toHaveLength(1);
    expect(posted.filter((text) => text.includes('planted-jewels'))).toHaveLength(1);
  }, 60_000);

  it('does not keep an alert off DingTalk with objects that are no slot, even without an audit key', async () => {
    const start = Date.UTC(2026, 11, 9, 5, 0, 0);
    await plant('planted-unkeyed', start, junkNames);
    const ordinary = makeAlert({
      id: 'acs.actiontrail/planted-unkeyed',
      severity: 'low',
      title: '[ossguard] oss://planted-unkeyed/object needs attention',
    });
    const result = await instance(unkeyedRuntime, () => start + 1_000)([ordinary]);

    expect(dingtalkOf(result, ordinary)).toEqual({ channel: 'dingtalk', ok: true, attempts: 1 });
    expect(sink.messages('planted-unkeyed')).toHaveLength(1);
  }, 60_000);
});

describe('a writer of the audit bucket who watches for a window in use and fills the rest of it', () => {
  it('does not keep an ordinary or a critical alert off DingTalk when the functions have an audit key', async () => {
    const start = Date.UTC(2026, 11, 9, 6, 0, 0);
    const at = (ms: number) => () => start + ms;
    const alert = (id: string, severity: Alert['severity'], title: string) =>
      makeAlert({ id: `acs.actiontrail/${id}`, severity, title: `[ossguard] ${title}` });
    const opening = alert('observed-first', 'low', 'oss://observed/first needs attention');
    expect(dingtalkOf(await instance(observedRuntime, at(1_000))([opening]), opening)?.ok).toBe(true);

    // The first send made the window's directory show in a listing: the writer fills every slot name the
    // budget used before slots were keyed, each name beside the one listed, and random ones.
    const robotDir = `${PREFIX}alert-budget/${createHash('sha256').update(sink.webhook('observed')).digest('hex').slice(0, 16)}/`;
    const listed = (await gateway.listObjects(BUCKET, robotDir)).keys.map((k) => k.key);
    expect(listed).toHaveLength(1);
    const [first] = listed as [string];
    const dir = first.slice(0, first.lastIndexOf('/') + 1);
    const taken = first.slice(dir.length);
    const names = [
      ...Array.from({ length: WINDOW_LIMIT }, (_, i) => String(i).padStart(3, '0')),
      ...Array.from({ length: WINDOW_LIMIT }, (_, i) => `${String(i).padStart(3, '0')}${taken.slice(3)}`),
      ...Array.from({ length: WINDOW_LIMIT }, () => randomBytes(16).toString('hex')),
      ...Array.from({ length: WINDOW_LIMIT }, () =>
        randomBytes(taken.length / 2 + 1)
          .toString('hex')
          .slice(0, taken.length),
      ),
    ];
    for (const name of names) await gateway.putObjectIfAbsent(BUCKET, `${dir}${name}`, '{}');

    const ordinary = alert('observed-ordinary', 'medium', 'oss://observed/object needs attention');
    const critical = alert('observed-critical', 'critical', 'bucket observed-jewels reverted');
    const ordinaryResult = await instance(observedRuntime, at(2_000))([ordinary]);
    const criticalResult = await instance(observedRuntime, at(3_000))([critical]);

    expect(dingtalkOf(ordinaryResult, ordinary)).toEqual({ channel: 'dingtalk', ok: true, attempts: 1 });
    expect(dingtalkOf(criticalResult, critical)).toEqual({ channel: 'dingtalk', ok: true, attempts: 1 });
    const posted = sink.messages('observed').map((m) => JSON.stringify(m.body));
    expect(posted.filter((text) => text.includes('oss://observed/object'))).toHaveLength(1);
    expect(posted.filter((text) => text.includes('observed-jewels'))).toHaveLength(1);
  }, 60_000);
});

describe('instances on either side of a rotation of the audit key, alerting at once through one robot', () => {
  it('stay within one budget together, and every alert reaches DingTalk or says why not', async () => {
    const start = Date.UTC(2026, 11, 9, 7, 0, 0);
    const alerts = Array.from({ length: 24 }, (_, i) =>
      makeAlert({
        id: `acs.actiontrail/rotation-${i}`,
        severity: 'critical',
        title: `[ossguard] bucket rotation-${i} reverted`,
      }),
    );
    const results = await Promise.all(
      alerts.map((alert, i) =>
        instance(i % 2 ? rotatedRuntime : unrotatedRuntime, () => start + 1_000)([alert]),
      ),
    );

    expect(sink.messages('rotation')).toHaveLength(WINDOW_LIMIT);
    expect(sink.requests('rotation').filter((r) => r.errcode !== undefined && r.errcode !== 0)).toEqual([]);
    for (const [i, alert] of alerts.entries()) {
      const dingtalk = dingtalkOf(results[i]!, alert);
      if (!dingtalk?.ok) expect(dingtalk?.error, alert.id).toMatch(/rate budget of the robot used up/);
    }
  }, 60_000);
});
