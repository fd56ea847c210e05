import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DingTalkSink } from '../../local/dingtalk/sink';
import { DingTalkChannel, type DingTalkChannelOptions } from '../../shared/alerts/dingtalk';
import { fakeClock, makeAlert, manyAlerts } from '../unit/alerts-fixtures';

// Fake credentials only.
const SECRET = 'SECfake0test0secret0for0the0local0sink';
const robots = Object.fromEntries(
  [
    'signed',
    'wrong-secret',
    'unsigned-request',
    'stale',
    'throttled',
    'server-error',
    'server-down',
    'lost-response',
    'burst',
    'second-burst',
    'reserve',
    'mentions',
    'oversized',
  ].map((token) => [token, { secret: SECRET, keywords: ['ossguard'] }]),
);

let sink: DingTalkSink;
let clock = fakeClock();

beforeAll(async () => {
  sink = new DingTalkSink({ robots, now: () => clock.now() });
  await sink.listen();
});

afterAll(() => sink.close());

function channel(token: string, options: Partial<DingTalkChannelOptions> = {}) {
  return new DingTalkChannel({
    webhook: sink.webhook(token),
    secret: SECRET,
    backoffMs: 10,
    throttlePauseMs: 5_000,
    sleep: clock.sleep,
    now: clock.now,
    ...options,
  });
}

describe('the DingTalk channel against the local robot', () => {
  it('signs the request, and the robot accepts the markdown message', async () => {
    const alert = makeAlert();
    const [result] = await channel('signed').send([alert]);
    expect(result).toEqual({ channel: 'dingtalk', ok: true, attempts: 1 });
    const [message] = sink.messages('signed');
    expect(message?.body).toMatchObject({
      msgtype: 'markdown',
      markdown: { title: `HIGH ${alert.title}` },
      at: { isAtAll: false },
    });
    expect(JSON.stringify(message?.body)).toContain('acs.actiontrail/evt-0001');
    expect(message?.msgUuid).toMatch(/^[0-9a-f-]{36}$/);
  });

  it.each([
    ['a wrong secret', 'wrong-secret', { secret: 'SECnot0the0right0one' }, 'errcode 310000: sign not match'],
    ['no signature', 'unsigned-request', { secret: undefined }, 'errcode 310000: invalid timestamp'],
  ])(
    'reports %s as a failed result, without retrying and without the secret',
    async (_c, token, options, error) => {
      const [result] = await channel(token, options).send([makeAlert()]);
      expect(result).toEqual({ channel: 'dingtalk', ok: false, attempts: 1, error });
      expect(JSON.stringify(result)).not.toContain('SEC');
      expect(sink.messages(token)).toHaveLength(0);
    },
  );

  it('refuses a signature whose timestamp is more than an hour off', async () => {
    const late = fakeClock(clock.now() - 3_600_001);
    const [result] = await channel('stale', { now: late.now, sleep: late.sleep }).send([makeAlert()]);
    expect(result?.error).toBe('errcode 310000: invalid timestamp');
  });

  it('retries after a pause when the robot answers 130101 (sending too fast)', async () => {
    sink.inject({ errcode: 130101, errmsg: 'send too fast, exceed 20 times per minute' });
    const before = clock.sleeps.length;
    const [result] = await channel('throttled').send([makeAlert()]);
    expect(result).toEqual({ channel: 'dingtalk', ok: true, attempts: 2 });
    expect(clock.sleeps.slice(before)).toEqual([5_000]);
    expect(sink.messages('throttled')).toHaveLength(1);
  });

  it('retries 5xx answers with backoff', async () => {
    sink.inject({ status: 502 }, { status: 503 });
    const before = clock.sleeps.length;
    const [result] = await channel('server-error').send([makeAlert()]);
    expect(result).toEqual({ channel: 'dingtalk', ok: true, attempts: 3 });
    expect(clock.sleeps.slice(before)).toEqual([10, 20]);
  });

  it('gives up after the last attempt and says why', async () => {
    sink.inject({ status: 500 }, { status: 500 }, { status: 500 });
    const [result] = await channel('server-error').send([makeAlert({ id: 'other' })]);
    expect(result).toEqual({ channel: 'dingtalk', ok: false, attempts: 3, error: 'HTTP 500' });
  });

  it('retries a refused connection, and the error names neither token nor secret', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    const webhook = `http://127.0.0.1:${port}/robot/send?access_token=server-down`;
    const [result] = await channel('server-down', { webhook }).send([makeAlert()]);
    expect(result).toMatchObject({ ok: false, attempts: 3 });
    expect(result?.error).toMatch(/ECONNREFUSED/);
    expect(result?.error).not.toMatch(/server-down|SEC/);
  });

  it('gives up on a robot that accepts the connection but never answers, within the request timeout', async () => {
    const silent = createServer(() => {}).listen(0, '127.0.0.1');
    await new Promise((resolve) => silent.once('listening', resolve));
    try {
      const { port } = silent.address() as { port: number };
      const webhook = `http://127.0.0.1:${port}/robot/send?access_token=server-down`;
      const started = Date.now();
      const [result] = await channel('server-down', { webhook, timeoutMs: 200 }).send([makeAlert()]);
      expect(result).toMatchObject({ ok: false, attempts: 3 });
      expect(result?.error).toMatch(/no answer within 200 ms/);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      silent.close();
    }
  });

  it('does not post twice when a retry follows a lost response (msgUuid)', async () => {
    sink.inject({ acceptThenStatus: 502 });
    const [result] = await channel('lost-response').send([makeAlert()]);
    expect(result).toEqual({ channel: 'dingtalk', ok: true, attempts: 2 });
    expect(sink.requests('lost-response')).toHaveLength(2);
    expect(sink.messages('lost-response')).toHaveLength(1);
  });

  it('@s the people configured for the severity', async () => {
    const mentions = { critical: { atMobiles: ['13800000000'], atUserIds: ['manager01'] } };
    await channel('mentions', { mentions }).send([makeAlert({ severity: 'critical' })]);
    const [message] = sink.messages('mentions');
    expect(message?.body.at).toEqual({
      atMobiles: ['13800000000'],
      atUserIds: ['manager01'],
      isAtAll: false,
    });
    expect(JSON.stringify(message?.body.markdown)).toContain('@13800000000 @manager01');
  });

  it('delivers an alert too large for one message inside a digest', async () => {
    const facts = Array.from({ length: 60 }, (_, i) => ({ label: `Fact ${i}`, value: '字'.repeat(500) }));
    const [result] = await channel('oversized').send([makeAlert({ facts })]);
    expect(result).toEqual({ channel: 'dingtalk', ok: true, attempts: 1, digest: true });
  });
});

describe('a burst of alerts under the robot rate limit', () => {
  it('sends 100 alerts in at most 20 messages within the first minute, each alert in one of them', async () => {
    clock = fakeClock();
    const alerts = manyAlerts(100);
    const results = await channel('burst').send(alerts);
    expect(results.every((r) => r.ok)).toBe(true);
    const messages = sink.messages('burst');
    expect(messages.length).toBeLessThanOrEqual(20);
    expect(messages.every((m) => m.receivedAt - clock.start < 60_000)).toBe(true);
    const delivered = messages.map((m) => JSON.stringify(m.body)).join('\n');
    for (const alert of alerts) expect(delivered).toContain(alert.id);
    expect(results.filter((r) => r.digest)).toHaveLength(100 - (messages.length - 1));
    expect(sink.requests('burst').every((r) => r.errcode === undefined)).toBe(true);
  });

  it('fails what finds no room in the budget at once rather than waiting for it or tripping the robot’s block', async () => {
    clock = fakeClock();
    const robot = channel('second-burst', { deadlineMs: 120_000 });
    await robot.send(manyAlerts(30));
    clock.advance(10_000);
    const before = clock.sleeps.length;
    const later = await robot.send(
      manyAlerts(5).map((a) => ({ ...a, id: `${a.id}-later`, severity: 'high' as const })),
    );
    expect(clock.sleeps.slice(before)).toEqual([]);
    expect(
      later.every((r) => !r.ok && r.error === 'rate budget of the robot used up for non-critical alerts'),
    ).toBe(true);
    expect(sink.messages('second-burst')).toHaveLength(14);
    expect(sink.requests('second-burst').every((r) => r.errcode === undefined)).toBe(true);
  });

  it('keeps the last 6 of the robot’s 20 a minute for critical alerts: a flood of others cannot take them', async () => {
    clock = fakeClock();
    const robot = channel('reserve');
    const lesser = manyAlerts(20).map((a) => ({ ...a, severity: 'medium' as const }));
    const critical = manyAlerts(7).map((a) => ({
      ...a,
      id: `${a.id}-critical`,
      severity: 'critical' as const,
    }));
    const results = [];
    for (const alert of [...lesser, ...critical]) {
      results.push(...(await robot.send([alert])));
      clock.advance(1_000);
    }
    expect(results.map((r) => r.ok)).toEqual([
      ...Array(14).fill(true),
      ...Array(6).fill(false),
      ...Array(6).fill(true),
      false,
    ]);
    expect(results[14]?.error).toBe('rate budget of the robot used up for non-critical alerts');
    expect(results[26]?.error).toBe('rate budget of the robot used up');
    expect(sink.messages('reserve')).toHaveLength(20);
    expect(sink.requests('reserve').every((r) => r.errcode === undefined)).toBe(true);
  });

  it('reports alerts it could not send before the deadline as failed, not dropped silently', async () => {
    clock = fakeClock();
    const robot = channel('second-burst');
    clock.advance(600_000);
    await robot.send(manyAlerts(25));
    const late = await robot.send([makeAlert({ id: 'one-too-many' })]);
    expect(late).toEqual([
      {
        channel: 'dingtalk',
        ok: false,
        attempts: 1,
        error: 'rate budget of the robot used up for non-critical alerts',
      },
    ]);
  });
});
