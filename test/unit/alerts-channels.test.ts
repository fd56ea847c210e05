import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DingTalkChannel,
  dingTalkSign,
  MAX_BODY_BYTES,
  parseWebhook,
  planDingTalkMessages,
} from '../../shared/alerts/dingtalk';
import { EmailChannel, type EmailChannelOptions } from '../../shared/alerts/email';
import { reservedForCritical, SlidingWindowLimiter, usableSlots } from '../../shared/alerts/ratelimit';
import { type AlertRoute, AlertRouter } from '../../shared/alerts/router';
import type { Alert, AlertChannel, DeliveryResult } from '../../shared/alerts/types';
import { type AttemptOutcome, withRetries } from '../../shared/retry';
import { fakeClock, makeAlert, manyAlerts } from './alerts-fixtures';

const bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value), 'utf8');

describe('DingTalk signing', () => {
  it('matches the reference test vector', () => {
    expect(encodeURIComponent(dingTalkSign('SECtest', 1_700_000_000_000))).toBe(
      'aZLLrriXgn05YbwaGR7knYsLeJADjr9NwLaNNKpxh4g%3D',
    );
  });
});

describe('DingTalk webhook validation', () => {
  it.each([
    ['https://oapi.dingtalk.com/robot/send?access_token=abc', true],
    ['http://127.0.0.1:8080/robot/send?access_token=abc', true],
    ['http://localhost/robot/send?access_token=abc', true],
    ['http://oapi.dingtalk.com/robot/send?access_token=abc', false],
    ['https://oapi.dingtalk.com/robot/send', false],
    ['https://user:pw@oapi.dingtalk.com/robot/send?access_token=abc', false],
    ['ftp://localhost/robot/send?access_token=abc', false],
    ['not a url access_token=abc', false],
  ])('%s accepted: %s', (webhook, accepted) => {
    if (accepted) expect(() => parseWebhook(webhook)).not.toThrow();
    else expect(() => parseWebhook(webhook)).toThrow(/dingtalk webhook/);
  });

  it('never echoes the access token in its error', () => {
    expect(() => parseWebhook('http://evil.example/robot/send?access_token=tok-secret-123')).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('tok-secret-123') }),
    );
  });

  it.each([
    [{ critical: { atMobiles: ['1380000\n0000'] } }, /atMobiles/],
    [{ high: { atUserIds: ['a b'] } }, /atUserIds/],
  ])('refuses a mention that would go into the text unescaped: %j', (mentions, message) => {
    expect(
      () => new DingTalkChannel({ webhook: 'https://oapi.dingtalk.com/robot/send?access_token=t', mentions }),
    ).toThrow(message);
  });
});

describe('planning DingTalk messages under a budget', () => {
  it('sends each alert on its own while they fit the budget, in their order', () => {
    const alerts = manyAlerts(5);
    const plan = planDingTalkMessages(alerts, 20);
    expect(plan.map((m) => m.alerts)).toEqual(alerts.map((a) => [a]));
    expect(plan.every((m) => !m.digest)).toBe(true);
  });

  it('gives the most severe alerts their own messages and lists the rest in a digest', () => {
    const plan = planDingTalkMessages(manyAlerts(100), 20);
    expect(plan).toHaveLength(20);
    expect(plan.slice(0, 19).every((m) => !m.digest && m.alerts[0]?.severity === 'critical')).toBe(true);
    expect(plan[19]?.digest).toBe(true);
  });

  it('sets the @ list of the most severe alert of a message', () => {
    const mentions = { critical: { atMobiles: ['13800000000'], isAtAll: true } };
    const [critical, low] = planDingTalkMessages(
      [makeAlert({ severity: 'critical' }), makeAlert({ id: 'b', severity: 'low' })],
      5,
      mentions,
    );
    expect(critical?.body.at).toEqual({ atMobiles: ['13800000000'], atUserIds: [], isAtAll: true });
    expect(critical?.body.markdown.text.endsWith('@13800000000')).toBe(true);
    expect(low?.body.at).toEqual({ atMobiles: [], atUserIds: [], isAtAll: false });
  });

  it('keeps the same msgUuid for the same alert, so a retry is recognisable', () => {
    const [first] = planDingTalkMessages([makeAlert()], 1);
    const [again] = planDingTalkMessages([makeAlert()], 1);
    expect(first?.body.msgUuid).toBe(again?.body.msgUuid);
  });

  it('puts an alert too large for one message into a digest rather than dropping it', () => {
    const huge = makeAlert({
      facts: Array.from({ length: 60 }, (_, i) => ({ label: `Fact ${i}`, value: '字'.repeat(500) })),
    });
    const plan = planDingTalkMessages([huge], 20);
    expect(plan).toHaveLength(1);
    expect(plan[0]?.digest).toBe(true);
    expect(bytes(plan[0]?.body)).toBeLessThanOrEqual(MAX_BODY_BYTES);
  });

  it('puts the messages with a critical alert first, so that they take the free slots before the rest', () => {
    const [low, high, critical] = (['low', 'high', 'critical'] as const).map((severity) =>
      makeAlert({ id: severity, severity }),
    );
    const plan = planDingTalkMessages([low!, high!, critical!], 5);
    expect(plan.map((m) => m.alerts.map((a) => a.id))).toEqual([['critical'], ['low'], ['high']]);
  });

  it('with only the reserved slots left, plans one digest that carries the critical alert and the rest with it', () => {
    const lesser = manyAlerts(12).filter((a) => a.severity !== 'critical');
    const alerts = [...lesser, makeAlert({ id: 'the-critical-one', severity: 'critical' })];
    const plan = planDingTalkMessages(alerts, 0);
    expect(plan).toHaveLength(1);
    expect(plan[0]).toMatchObject({ digest: true, alerts: expect.arrayContaining(alerts) });
    expect(plan[0]?.alerts[0]?.severity).toBe('critical');
  });

  it('puts a critical alert too large for one message into the first message, not after the other digests', () => {
    const huge = makeAlert({
      id: 'huge-critical',
      severity: 'critical',
      facts: Array.from({ length: 60 }, (_, i) => ({ label: `Fact ${i}`, value: '字'.repeat(500) })),
    });
    const lesser = manyAlerts(300).filter((a) => a.severity !== 'critical');
    const plan = planDingTalkMessages([...lesser, huge], 1);
    expect(plan.length).toBeGreaterThan(1);
    expect(plan[0]?.alerts).toContain(huge);
  });

  it('for any burst and budget: every alert exactly once, every body under the size limit, within budget unless only digests remain', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 1, max: 20 }), (count, budget) => {
        const alerts = manyAlerts(count);
        const plan = planDingTalkMessages(alerts, budget);
        const sent = plan.flatMap((m) => m.alerts);
        expect(sent).toHaveLength(count);
        expect(new Set(sent)).toEqual(new Set(alerts));
        for (const message of plan) expect(bytes(message.body)).toBeLessThanOrEqual(MAX_BODY_BYTES);
        if (plan.length > budget) expect(plan.every((m) => m.digest)).toBe(true);
        const critical = plan.map((m) => m.alerts.some((a) => a.severity === 'critical'));
        expect(critical).toEqual([...critical].sort((a, b) => Number(b) - Number(a)));
      }),
      { numRuns: 40 },
    );
  });
});

describe('the share of a DingTalk budget kept for critical alerts', () => {
  it.each([
    // limit, reserved, usable without a critical alert
    [1, 0, 1],
    [2, 1, 1],
    [3, 1, 2],
    [4, 2, 2],
    [10, 3, 7],
    [20, 6, 14],
    [300, 90, 210],
  ])(
    'of %i sends keeps %i for messages with a critical alert, and lets others use %i',
    (limit, reserved, others) => {
      expect(reservedForCritical(limit)).toBe(reserved);
      expect(usableSlots(limit, false)).toBe(others);
      expect(usableSlots(limit, true)).toBe(limit);
    },
  );
});

describe('the sliding-window rate limit', () => {
  it('allows 20 sends in any minute, the last 6 only for messages with a critical alert', () => {
    const clock = fakeClock(0);
    const limiter = new SlidingWindowLimiter(20, 60_000, clock.now);
    for (let i = 0; i < 20; i++) {
      expect(limiter.remaining(true)).toBe(20 - i);
      expect(limiter.remaining(false)).toBe(Math.max(0, 14 - i));
      limiter.record();
      clock.advance(1_000);
    }
    expect(limiter.remaining(true)).toBe(0);
    clock.advance(40_000);
    expect(limiter.remaining(true)).toBe(1);
    expect(limiter.remaining(false)).toBe(0);
  });
});

describe('retrying', () => {
  const run = (outcomes: AttemptOutcome[], deadline = Number.POSITIVE_INFINITY) => {
    const clock = fakeClock(0);
    const result = withRetries(async (n) => outcomes[n - 1]!, {
      maxAttempts: 3,
      sleep: clock.sleep,
      now: clock.now,
      deadline,
    });
    return result.then((delivery) => ({ delivery, sleeps: clock.sleeps }));
  };

  it.each([
    ['succeeds at once', [{ ok: true }], { ok: true, attempts: 1 }, []],
    [
      'retries a transient failure',
      [{ ok: false, error: 'e', retryAfterMs: 10 }, { ok: true }],
      { ok: true, attempts: 2 },
      [10],
    ],
    [
      'gives up on a permanent failure',
      [{ ok: false, error: 'no' }],
      { ok: false, attempts: 1, error: 'no' },
      [],
    ],
    [
      'stops after the last attempt',
      Array(3).fill({ ok: false, error: 'e', retryAfterMs: 1 }),
      { ok: false, attempts: 3, error: 'e' },
      [1, 1],
    ],
  ] as const)('%s', async (_case, outcomes, expected, sleeps) => {
    const result = await run([...outcomes]);
    expect(result.delivery).toEqual(expected);
    expect(result.sleeps).toEqual(sleeps);
  });

  it('does not start a wait that would end after the deadline', async () => {
    const { delivery, sleeps } = await run([{ ok: false, error: 'busy', retryAfterMs: 100 }], 50);
    expect(delivery).toEqual({ ok: false, attempts: 1, error: 'busy (no time left to retry)' });
    expect(sleeps).toEqual([]);
  });
});

describe('email settings validation', () => {
  const valid: EmailChannelOptions = {
    host: 'smtpdm.aliyun.com',
    port: 465,
    secure: true,
    from: 'alerts@example.test',
    to: ['sec@example.test'],
  };

  it.each([
    ['a host with CRLF', { host: 'smtp.example.test\r\nX-Evil: 1' }, /host/],
    ['a host with a space', { host: 'smtp example.test' }, /host/],
    ['a port out of range', { port: 70_000 }, /port/],
    ['a from with a header', { from: 'alerts@example.test\r\nBcc: evil@x.example' }, /from/],
    ['a from with a display name', { from: 'Boss <alerts@example.test>' }, /from/],
    ['a second address hidden in to', { to: ['sec@example.test, evil@x.example'] }, /to\[0\]/],
    ['no recipients', { to: [] }, /to/],
    ['a user with a newline', { user: 'alerts\n@example.test' }, /user/],
  ])('refuses %s', (_case, change, message) => {
    expect(() => new EmailChannel({ ...valid, ...change })).toThrow(message);
  });

  it.each([['smtpdm.aliyun.com'], ['127.0.0.1'], ['[::1]'], ['localhost']])('accepts host %s', (host) => {
    expect(() => new EmailChannel({ ...valid, host })).not.toThrow();
  });
});

/** A channel that records what it was given and answers from `outcome`. */
function recordingChannel(name: string, outcome: (alert: Alert) => DeliveryResult | Error) {
  const received: Alert[][] = [];
  const channel: AlertChannel = {
    name,
    async send(alerts) {
      received.push([...alerts]);
      const results = alerts.map(outcome);
      const thrown = results.find((r) => r instanceof Error);
      if (thrown) throw thrown;
      return results as DeliveryResult[];
    },
  };
  return { channel, received };
}

const ok = (channel: string) => () => ({ channel, ok: true, attempts: 1 });

describe('routing alerts to channels', () => {
  const critical = makeAlert({ id: 'crit', severity: 'critical', rules: ['account-bpa-disabled'] });
  const low = makeAlert({ id: 'low', severity: 'low', rules: ['bucket-acl-public-read'] });
  const info = makeAlert({ id: 'info', severity: 'info', rules: ['key-untrusted-source'] });

  it('gives every channel every alert when there are no routes', async () => {
    const dingtalk = recordingChannel('dingtalk', ok('dingtalk'));
    const email = recordingChannel('email', ok('email'));
    const results = await new AlertRouter([dingtalk.channel, email.channel]).dispatch([critical, low]);
    expect(results.get('crit')?.map((r) => r.channel)).toEqual(['dingtalk', 'email']);
    expect(dingtalk.received).toEqual([[critical, low]]);
  });

  it.each([
    ['by severity', [{ channel: 'dingtalk', minSeverity: 'high' as const }], ['crit']],
    ['by rule', [{ channel: 'dingtalk', rules: ['bucket-acl-public-read'] }], ['low']],
    [
      'by either of two routes',
      [
        { channel: 'dingtalk', minSeverity: 'critical' as const },
        { channel: 'dingtalk', rules: ['key-untrusted-source'] },
      ],
      ['crit', 'info'],
    ],
    [
      'by severity and rule together',
      [{ channel: 'dingtalk', minSeverity: 'low' as const, rules: ['x'] }],
      [],
    ],
  ] as Array<[string, AlertRoute[], string[]]>)('sends %s', async (_case, routes, expected) => {
    const dingtalk = recordingChannel('dingtalk', ok('dingtalk'));
    const results = await new AlertRouter([dingtalk.channel], routes).dispatch([critical, low, info]);
    expect(dingtalk.received.flat().map((a) => a.id)).toEqual(expected);
    for (const alert of [critical, low, info]) {
      expect(results.get(alert.id)).toHaveLength(expected.includes(alert.id) ? 1 : 0);
    }
  });

  it('reports a channel that throws as failed, and still delivers through the others', async () => {
    const broken = recordingChannel('dingtalk', () => new Error('boom https://x?access_token=tok'));
    const email = recordingChannel('email', ok('email'));
    const results = await new AlertRouter([broken.channel, email.channel]).dispatch([critical]);
    expect(results.get('crit')).toEqual([
      { channel: 'dingtalk', ok: false, attempts: 0, error: 'channel failed unexpectedly (Error)' },
      { channel: 'email', ok: true, attempts: 1 },
    ]);
  });

  it('runs the channels in parallel', async () => {
    let inFlight = 0;
    let peak = 0;
    const slow = (name: string): AlertChannel => ({
      name,
      async send(alerts) {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 20));
        inFlight--;
        return alerts.map(ok(name));
      },
    });
    await new AlertRouter([slow('dingtalk'), slow('email')]).dispatch([critical]);
    expect(peak).toBe(2);
  });

  it('refuses a route to a channel that is not configured', () => {
    const email = recordingChannel('email', ok('email'));
    expect(() => new AlertRouter([email.channel], [{ channel: 'dingtalk' }])).toThrow(
      /routes\[0\]\.channel: dingtalk is not a configured channel/,
    );
  });
});
