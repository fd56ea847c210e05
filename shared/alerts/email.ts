import { isIP } from 'node:net';
import type { Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport';
import { type AttemptOutcome, backoff, type Delivery, defaultSleep, withRetries } from '../retry';
import type { Severity } from '../severity';
import { highestSeverity, type RenderedEmail, renderEmail, renderEmailDigest } from './render';
import { describeFailure, redact, stableId } from './text';
import type { Alert, AlertChannel, DeliveryResult } from './types';

/**
 * Alert email over SMTP (DirectMail: smtpdm.aliyun.com, port 465 with implicit TLS, user = sender address;
 * F-DM-SMTP). Text and HTML parts carry the same content; transient failures
 * (4xx replies, connection trouble) are retried, permanent ones (5xx) are not.
 */

export interface EmailChannelOptions {
  host: string;
  port: number;
  /** Implicit TLS (port 465). Without it, STARTTLS is required except to a loopback host. */
  secure: boolean;
  /** Defaults to `from` when a password is given: DirectMail's SMTP user is the sender address. */
  user?: string;
  /** From the environment (OSSGUARD_SMTP_PASSWORD), never from the config file. */
  password?: string;
  from: string;
  to: string[];
  tls?: { rejectUnauthorized?: boolean };
  /** Refuse to send without TLS. Default: true unless the host is loopback (the local SMTP server). */
  requireTLS?: boolean;
  /** More alerts than this in one batch go out as a single digest email. Default 3. */
  digestAbove?: number;
  /** Tries per email, including the first. Default 3. */
  maxAttempts?: number;
  /** First backoff after a transient failure, doubled per retry. Default 1 s. */
  backoffMs?: number;
  /** No retry starts later than this after `send` began. Default 25 s. */
  deadlineMs?: number;
  /** Connection, greeting and socket inactivity timeout. Default 10 s. */
  timeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  /** Channel name in results. Default `email`. */
  name?: string;
}

const HOST_NAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
// A bare address: nothing that could add a display name, a second address, or a header line.
const ADDRESS = /^[^\s\p{Cc}@<>,;:"\\()[\]]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252}[A-Za-z0-9])?$/u;
// Socket-level failures worth another try; nodemailer sets the first four, Node the rest.
const TRANSIENT_CODES = new Set([
  'ECONNECTION',
  'ETIMEDOUT',
  'ESOCKET',
  'EDNS',
  'ECONNRESET',
  'ECONNREFUSED',
]);

const isLoopback = (host: string): boolean => host === 'localhost' || /^127\./.test(host) || host === '::1';

function validate(options: EmailChannelOptions): void {
  const host = options.host.replace(/^\[(.*)\]$/, '$1');
  if (!HOST_NAME.test(host) && isIP(host) === 0)
    throw new Error('email host must be a host name or IP address');
  if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535) {
    throw new Error('email port must be an integer from 1 to 65535');
  }
  if (!ADDRESS.test(options.from)) throw new Error('email from must be a plain email address');
  if (options.to.length === 0) throw new Error('email to must list at least one address');
  options.to.forEach((address, i) => {
    if (!ADDRESS.test(address)) throw new Error(`email to[${i}] must be a plain email address`);
  });
  if (options.user !== undefined && !/^[\x21-\x7e]{1,256}$/.test(options.user)) {
    throw new Error('email user must be printable ASCII without spaces');
  }
}

export class EmailChannel implements AlertChannel {
  readonly name: string;
  private readonly transport: SMTPTransport.Options;
  private transporter: Transporter | undefined;
  private readonly from: string;
  private readonly to: string[];
  private readonly secrets: string[];
  private readonly digestAbove: number;
  private readonly maxAttempts: number;
  private readonly backoffMs: number;
  private readonly deadlineMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;

  constructor(options: EmailChannelOptions) {
    validate(options);
    this.name = options.name ?? 'email';
    this.from = options.from;
    this.to = [...options.to];
    this.secrets = options.password
      ? [options.password, Buffer.from(options.password).toString('base64')]
      : [];
    this.digestAbove = options.digestAbove ?? 3;
    this.maxAttempts = options.maxAttempts ?? 3;
    this.backoffMs = options.backoffMs ?? 1_000;
    this.deadlineMs = options.deadlineMs ?? 25_000;
    this.sleep = options.sleep ?? defaultSleep;
    this.now = options.now ?? Date.now;
    const timeout = options.timeoutMs ?? 10_000;
    const user = options.user ?? (options.password ? options.from : undefined);
    this.transport = {
      host: options.host,
      port: options.port,
      secure: options.secure,
      requireTLS: !options.secure && (options.requireTLS ?? !isLoopback(options.host)),
      ...(user ? { auth: { user, pass: options.password ?? '' } } : {}),
      tls: { rejectUnauthorized: options.tls?.rejectUnauthorized ?? true },
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      socketTimeout: timeout,
    };
  }

  /**
   * nodemailer on the first email (248 KB, the largest module of every function): a CommonJS require, which
   * the function bundles leave to smtp.cjs beside them (scripts/bundle-options.mjs, besideBundle), so a cold
   * start does not evaluate it, nor does a function that alerts by DingTalk alone; vitest provides `require`.
   */
  private smtp(): Transporter {
    if (!this.transporter) {
      const { createTransport } = require('nodemailer') as typeof import('nodemailer');
      this.transporter = createTransport(this.transport);
    }
    return this.transporter;
  }

  async send(alerts: readonly Alert[]): Promise<DeliveryResult[]> {
    const deadline = this.now() + this.deadlineMs;
    if (alerts.length > this.digestAbove) {
      const ids = alerts.map((a) => a.id).sort();
      const delivery = await this.deliver(
        renderEmailDigest(alerts),
        `digest:${ids.join('\n')}`,
        highestSeverity(alerts),
        deadline,
      );
      return alerts.map(() => ({ channel: this.name, ...delivery, digest: true }));
    }
    const results: DeliveryResult[] = [];
    for (const alert of alerts) {
      const delivery = await this.deliver(renderEmail(alert), `alert:${alert.id}`, alert.severity, deadline);
      results.push({ channel: this.name, ...delivery });
    }
    return results;
  }

  private deliver(
    email: RenderedEmail,
    key: string,
    severity: Severity,
    deadline: number,
  ): Promise<Delivery> {
    // The same Message-ID on every retry lets the receiving side drop a copy that did arrive after all.
    const messageId = `<${stableId(key)}@${this.from.split('@')[1]}>`;
    return withRetries(
      async (n) => {
        try {
          await this.smtp().sendMail({
            from: this.from,
            to: this.to,
            subject: email.subject,
            text: email.text,
            html: email.html,
            messageId,
            headers: { 'X-Ossguard-Severity': severity },
          });
          return { ok: true };
        } catch (error) {
          return this.classify(error, n);
        }
      },
      { maxAttempts: this.maxAttempts, sleep: this.sleep, now: this.now, deadline },
    );
  }

  private classify(error: unknown, attempt: number): AttemptOutcome {
    const { code, responseCode } = (error ?? {}) as { code?: unknown; responseCode?: unknown };
    const reply = typeof responseCode === 'number' ? responseCode : undefined;
    const transient =
      reply !== undefined
        ? reply >= 400 && reply < 500
        : typeof code === 'string' && TRANSIENT_CODES.has(code);
    const message = redact(`SMTP ${reply ?? code ?? 'failure'}: ${describeFailure(error)}`, this.secrets);
    return transient
      ? { ok: false, error: message, retryAfterMs: backoff(this.backoffMs, attempt) }
      : { ok: false, error: message };
  }
}
