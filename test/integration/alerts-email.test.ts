import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LocalSmtpServer } from '../../local/smtp/server';
import { EmailChannel, type EmailChannelOptions } from '../../shared/alerts/email';
import { renderDingTalkMarkdown, renderEmail } from '../../shared/alerts/render';
import { escapeHtml, escapeMarkdown, singleLine, stableId } from '../../shared/alerts/text';
import { fakeClock, makeAlert, manyAlerts } from '../unit/alerts-fixtures';

// Fake credentials only.
const USER = 'alerts@example.test';
const PASSWORD = 'fake-smtp-password-0123';
const TO = ['sec@example.test', 'ops@example.test'];

let server: LocalSmtpServer;
let port: number;
let clock = fakeClock();

beforeAll(async () => {
  server = new LocalSmtpServer({ auth: { user: USER, password: PASSWORD } });
  port = await server.listen();
});

afterAll(() => server.close());

let seen = 0;
beforeEach(() => {
  seen = server.messages().length;
  clock = fakeClock();
});
const received = () => server.messages().slice(seen);

function channel(options: Partial<EmailChannelOptions> = {}) {
  return new EmailChannel({
    host: '127.0.0.1',
    port,
    secure: false,
    user: USER,
    password: PASSWORD,
    from: USER,
    to: TO,
    backoffMs: 10,
    sleep: clock.sleep,
    now: clock.now,
    ...options,
  });
}

const hostile = makeAlert({
  id: 'acs.actiontrail/evt-hostile',
  severity: 'critical',
  title: '[ossguard] bucket x\r\nBcc: evil@x.example\r\n\r\n<b>body</b> reverted',
  facts: [
    { label: 'Resource', value: 'oss://shop/<script>alert(1)</script>' },
    { label: 'Actor', value: 'mallory\nSubject: owned\r\nBcc: evil@x.example' },
    { label: 'Source IP', value: '[login](https://evil.example) & "quotes"' },
  ],
});

describe('the email channel through nodemailer to a real SMTP server', () => {
  it('authenticates and delivers one mail with the same facts in subject, text and HTML', async () => {
    const [result] = await channel().send([hostile]);
    expect(result).toEqual({ channel: 'email', ok: true, attempts: 1 });
    const [mail] = received();
    expect(mail?.user).toBe(USER);
    expect(mail?.envelope).toEqual({ from: USER, to: TO });
    expect(mail?.mail.subject).toBe(renderEmail(hostile).subject);
    expect(mail?.mail.subject).toMatch(/^\[CRITICAL\] /);
    expect(mail?.mail.messageId).toBe(`<${stableId(`alert:${hostile.id}`)}@example.test>`);
    expect(mail?.mail.headers.get('x-ossguard-severity')).toBe('critical');
    const markdown = renderDingTalkMarkdown(hostile).text;
    for (const fact of hostile.facts) {
      expect(mail?.mail.text).toContain(`${fact.label}: ${singleLine(fact.value)}`);
      expect(mail?.mail.html).toContain(escapeHtml(fact.value));
      expect(markdown).toContain(escapeMarkdown(fact.value));
    }
  });

  it('makes header injection through a title or fact impossible', async () => {
    await channel().send([hostile]);
    const [mail] = received();
    expect(mail?.envelope.to).toEqual(TO);
    expect(mail?.mail.bcc).toBeUndefined();
    expect(mail?.mail.headers.has('bcc')).toBe(false);
    expect(mail?.mail.headers.get('subject')).not.toMatch(/owned/);
    expect(mail?.mail.html).not.toContain('<script>');
    expect(mail?.mail.html).not.toContain('<b>body</b>');
    const headerBlock = mail?.raw.split(/\r?\n\r?\n/)[0] ?? '';
    expect(headerBlock).not.toMatch(/^Bcc:/im);
  });

  it('sends a burst as one digest email listing every alert', async () => {
    const alerts = manyAlerts(8);
    const results = await channel().send(alerts);
    expect(results.every((r) => r.ok && r.digest)).toBe(true);
    expect(received()).toHaveLength(1);
    const [mail] = received();
    expect(mail?.mail.subject).toBe('[CRITICAL] [ossguard] 8 alerts, most severe CRITICAL');
    for (const alert of alerts) {
      expect(mail?.mail.text).toContain(alert.id);
      expect(mail?.mail.html).toContain(alert.id);
    }
  });

  it('retries a transient 4xx reply and delivers once', async () => {
    server.inject({ stage: 'data', responseCode: 451, message: 'try again later' });
    const [result] = await channel().send([makeAlert()]);
    expect(result).toEqual({ channel: 'email', ok: true, attempts: 2 });
    expect(clock.sleeps).toEqual([10]);
    expect(received()).toHaveLength(1);
  });

  it('retries a greeting refused with 421', async () => {
    server.inject({ stage: 'connect', responseCode: 421, message: 'too busy' });
    const [result] = await channel().send([makeAlert()]);
    expect(result).toMatchObject({ ok: true, attempts: 2 });
  });

  it('does not retry a permanent 5xx reply, and says what it was', async () => {
    server.inject({ stage: 'data', responseCode: 554, message: 'rejected as spam' });
    const [result] = await channel().send([makeAlert()]);
    expect(result).toMatchObject({ channel: 'email', ok: false, attempts: 1 });
    expect(result?.error).toMatch(/^SMTP 554: .*rejected as spam/);
    expect(received()).toHaveLength(0);
  });

  it('reports a wrong password as a permanent failure without revealing it', async () => {
    const wrong = 'fake-wrong-password-9876';
    const [result] = await channel({ password: wrong }).send([makeAlert()]);
    expect(result).toMatchObject({ ok: false, attempts: 1 });
    expect(result?.error).toMatch(/535/);
    expect(JSON.stringify(result)).not.toContain(wrong);
    expect(JSON.stringify(result)).not.toContain(Buffer.from(wrong).toString('base64'));
  });

  it('retries a refused connection, then reports it', async () => {
    const [result] = await channel({ port: 1 }).send([makeAlert()]);
    expect(result).toMatchObject({ ok: false, attempts: 3 });
    expect(result?.error).toMatch(/ECONNECTION|ECONNREFUSED/);
    expect(result?.error).not.toContain(PASSWORD);
  });
});
