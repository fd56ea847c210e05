import { createHmac } from 'node:crypto';
import { type AttemptOutcome, backoff, defaultSleep, withRetries } from '../retry';
import type { Severity } from '../severity';
import { type PostAnswer, postJson } from './post';
import { carriesCritical, SlidingWindowLimiter } from './ratelimit';
import {
  bySeverity,
  highestSeverity,
  renderDingTalkDigest,
  renderDingTalkDigestEntry,
  renderDingTalkMarkdown,
} from './render';
import type { SharedSendBudget } from './shared-budget';
import { describeFailure, redact, singleLine, stableId } from './text';
import type { Alert, AlertChannel, DeliveryResult } from './types';

/**
 * DingTalk custom robot (webhook; F-DINGTALK-WEBHOOK, F-DINGTALK-RATE-LIMIT): markdown messages, 加签 signing,
 * errcode checking (failures mostly come back as HTTP 200), and the robot's limit of 20 messages per minute,
 * after which it blocks for 10 minutes. A burst beyond that budget goes out as digests. The budget is per
 * process unless `sharedBudget` gives one all instances share; a message that finds no room fails at once,
 * and its result says so (README "Alerts under load"). Part of either budget is kept for messages that carry
 * a critical alert (shared/alerts/ratelimit.ts, CRITICAL_RESERVE_PERCENT), and those go first.
 */

export interface DingTalkMention {
  atMobiles?: string[];
  atUserIds?: string[];
  isAtAll?: boolean;
}

export type DingTalkMentions = Partial<Record<Severity, DingTalkMention>>;

export interface DingTalkChannelOptions {
  /** `https://oapi.dingtalk.com/robot/send?access_token=…`; plain http only to localhost. */
  webhook: string;
  /** The robot's 加签 secret (`SEC…`), from the environment. */
  secret?: string;
  /** Who to @ per severity; a digest uses the entry of its most severe alert. */
  mentions?: DingTalkMentions;
  /** Tries per message, including the first. Default 3. */
  maxAttempts?: number;
  /** First backoff after a 5xx or network error, doubled per retry. Default 1 s. */
  backoffMs?: number;
  /** Pause before retrying after errcode 130101 (sending too fast). Default 15 s. */
  throttlePauseMs?: number;
  /** No retry starts later than this after `send` began (the rate budget is never waited for). Default 25 s. */
  deadlineMs?: number;
  /** Per request. Default 10 s. */
  timeoutMs?: number;
  /** The robot's budget. Default ROBOT_MESSAGES_PER_MINUTE, DingTalk's documented limit. */
  messagesPerMinute?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Clock for signing timestamps and the rate budget. */
  now?: () => number;
  /** Channel name in results. Default `dingtalk`. */
  name?: string;
  /**
   * The budget all instances share (shared/alerts/shared-budget.ts), when there is one for this invocation;
   * the per-process limit applies as well. Unreachable, it is skipped: the alert goes out on the local limit.
   */
  sharedBudget?: () => SharedSendBudget | undefined;
}

/** The robot's request body for a markdown message. */
export interface DingTalkMessageBody {
  msgtype: 'markdown';
  markdown: { title: string; text: string };
  at: { atMobiles: string[]; atUserIds: string[]; isAtAll: boolean };
  /**
   * Idempotency key, so a retry after a lost response does not post twice. UNVERIFIED (F-DINGTALK-MSGUUID):
   * DingTalk's custom-robots-send-group-messages page is cited for it, but no public source reachable here
   * (official SDK request classes, client code) shows the field. If DingTalk ignores it, a retry can
   * duplicate a message, which beats losing an alert; the local sink honours it.
   */
  msgUuid: string;
}

export interface PlannedMessage {
  body: DingTalkMessageBody;
  alerts: Alert[];
  digest: boolean;
}

/** DingTalk answers errcode 460101 "message too long, exceed 20000 bytes"; stay well under it. */
export const MAX_BODY_BYTES = 18_000;

/**
 * Errcodes worth retrying: 130101 "send too fast", and -1 "系统繁忙" (system busy), which DingTalk's global
 * error code table says to retry up to three times.
 */
const THROTTLED = 130101;
const BUSY = -1;

/** What DingTalk lets a custom robot take (F-DINGTALK-RATE-LIMIT). */
export const ROBOT_MESSAGES_PER_MINUTE = 20;

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Whether the webhook is a robot on this machine (the local cloud's), not one of DingTalk's. */
export const isLocalRobot = (webhook: URL): boolean => LOCAL_HOSTS.has(webhook.hostname);
const MOBILE = /^\+?\d{5,20}$/;
const USER_ID = /^[A-Za-z0-9_.@$-]{1,64}$/;

/** The 加签 signature, before URL encoding. */
export function dingTalkSign(secret: string, timestamp: number): string {
  return createHmac('sha256', secret).update(`${timestamp}\n${secret}`).digest('base64');
}

/** Validates the webhook; errors never echo it, since its access_token is a credential. */
export function parseWebhook(webhook: string): URL {
  let url: URL;
  try {
    url = new URL(webhook);
  } catch {
    throw new Error('dingtalk webhook is not a URL');
  }
  const plainLocal = url.protocol === 'http:' && isLocalRobot(url);
  if (url.protocol !== 'https:' && !plainLocal) {
    throw new Error('dingtalk webhook must be an https URL (http only for localhost)');
  }
  if (!url.searchParams.get('access_token')) throw new Error('dingtalk webhook has no access_token');
  if (url.username || url.password) throw new Error('dingtalk webhook must not carry user info');
  return url;
}

function validateMentions(mentions: DingTalkMentions): void {
  for (const [severity, mention] of Object.entries(mentions)) {
    // These go into the message text unescaped (DingTalk only highlights a literal @mobile or @userId).
    for (const mobile of mention?.atMobiles ?? []) {
      if (!MOBILE.test(mobile))
        throw new Error(`dingtalk mentions.${severity}.atMobiles: not a phone number`);
    }
    for (const userId of mention?.atUserIds ?? []) {
      if (!USER_ID.test(userId)) throw new Error(`dingtalk mentions.${severity}.atUserIds: not a user id`);
    }
  }
}

function messageBody(
  rendered: { title: string; text: string },
  mention: DingTalkMention | undefined,
  key: string,
): DingTalkMessageBody {
  const atMobiles = mention?.atMobiles ?? [];
  const atUserIds = mention?.atUserIds ?? [];
  const tags = [...atMobiles, ...atUserIds].map((who) => `@${who}`).join(' ');
  return {
    msgtype: 'markdown',
    markdown: { title: rendered.title, text: tags ? `${rendered.text}\n\n${tags}` : rendered.text },
    at: { atMobiles, atUserIds, isAtAll: mention?.isAtAll ?? false },
    msgUuid: stableId(key),
  };
}

const bodyBytes = (body: DingTalkMessageBody): number => Buffer.byteLength(JSON.stringify(body), 'utf8');

function singleMessage(alert: Alert, mentions: DingTalkMentions): PlannedMessage {
  return {
    body: messageBody(renderDingTalkMarkdown(alert), mentions[alert.severity], `alert:${alert.id}`),
    alerts: [alert],
    digest: false,
  };
}

function digestBody(alerts: Alert[], mentions: DingTalkMentions, index: number, total: number) {
  const key = `digest:${alerts
    .map((a) => a.id)
    .sort()
    .join('\n')}`;
  return messageBody(renderDingTalkDigest(alerts, { index, total }), mentions[highestSeverity(alerts)], key);
}

/** Room for what differs between the measured empty frame and a real one: counts, severity labels. */
const FRAME_SLACK_BYTES = 64;

/** The bytes a digest spends besides its entries: the heaviest mention's frame, plus slack. */
function digestFrameBytes(mentions: DingTalkMentions): number {
  const emptyDigest = renderDingTalkDigest([], { index: 999, total: 999 });
  return (
    Math.max(
      ...[undefined, ...Object.values(mentions)].map((m) => bodyBytes(messageBody(emptyDigest, m, ''))),
    ) + FRAME_SLACK_BYTES
  );
}

/** An alert's entry in a digest, as a JSON string value: without its quotes, plus the escaped newline. */
const entryBytes = (alert: Alert): number =>
  Buffer.byteLength(JSON.stringify(renderDingTalkDigestEntry(alert)), 'utf8');

/** Splits alerts into as few digests as fit the size limit, in order, from their measured entry sizes. */
function digestChunks(alerts: Alert[], frame: number, sizes: ReadonlyMap<Alert, number>): Alert[][] {
  const chunks: Alert[][] = [];
  let chunk: Alert[] = [];
  let size = frame;
  for (const alert of alerts) {
    const entry = sizes.get(alert) ?? 0;
    if (chunk.length > 0 && size + entry > MAX_BODY_BYTES) {
      chunks.push(chunk);
      chunk = [];
      size = frame;
    }
    chunk.push(alert);
    size += entry;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

/** The messages carrying a critical alert first (otherwise in order): they may take the reserved slots. */
const criticalFirst = (messages: PlannedMessage[]): PlannedMessage[] => [
  ...messages.filter((message) => carriesCritical(message.alerts)),
  ...messages.filter((message) => !carriesCritical(message.alerts)),
];

/**
 * Decides the messages for one batch when `remaining` more may be sent now: each alert on its own while they
 * fit, otherwise the most severe alerts on their own and the rest in as few digests as fit DingTalk's size
 * limit, most severe first. Every alert is in exactly one message, and the messages with a critical alert
 * come first. Only when even the digests alone exceed the budget (hundreds of alerts) does the plan go over
 * it; the channel then reports those beyond it as failed, without waiting. With no room left but the slots
 * kept for critical alerts, a batch is planned as one message (one digest, as far as the size limit allows):
 * its critical alerts then take a single reserved slot, and lesser alerts in the same digest cost none.
 * Each entry is measured once and only the chosen digests are rendered: a burst of a thousand alerts
 * otherwise rendered every digest once per candidate split (~75 MB of garbage in one instance).
 */
export function planDingTalkMessages(
  alerts: readonly Alert[],
  remaining: number,
  mentions: DingTalkMentions = {},
): PlannedMessage[] {
  // With no budget left, the messages fail; planning for one keeps a lone alert a message of its own.
  const budget = Math.max(remaining, 1);
  const singles = new Map(alerts.map((alert) => [alert, singleMessage(alert, mentions)]));
  const fits = (message: PlannedMessage): boolean => bodyBytes(message.body) <= MAX_BODY_BYTES;
  if (alerts.length <= budget && [...singles.values()].every(fits))
    return criticalFirst([...singles.values()]);

  const ranked = bySeverity(alerts).map((alert) => singles.get(alert)!);
  const fitting = ranked.filter(fits);
  const oversized = ranked.filter((message) => !fits(message)).flatMap((message) => message.alerts);
  const frame = digestFrameBytes(mentions);
  const sizes = new Map(alerts.map((alert) => [alert, entryBytes(alert)]));
  for (let own = Math.min(fitting.length, budget - 1); ; own--) {
    const rest = bySeverity([...fitting.slice(own).flatMap((message) => message.alerts), ...oversized]);
    const chunks = digestChunks(rest, frame, sizes);
    if (own === 0 || own + chunks.length <= budget) {
      const grouped = chunks.map((chunk, i) => ({
        body: digestBody(chunk, mentions, i + 1, chunks.length),
        alerts: chunk,
        digest: true,
      }));
      return criticalFirst([...fitting.slice(0, own), ...grouped]);
    }
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export class DingTalkChannel implements AlertChannel {
  readonly name: string;
  private readonly webhook: URL;
  private readonly secret: string | undefined;
  private readonly mentions: DingTalkMentions;
  private readonly maxAttempts: number;
  private readonly backoffMs: number;
  private readonly throttlePauseMs: number;
  private readonly deadlineMs: number;
  private readonly timeoutMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;
  /** Per channel, so per robot and process: create one channel per process (the dispatcher does, at init). */
  private readonly limiter: SlidingWindowLimiter;
  private readonly sharedBudget: () => SharedSendBudget | undefined;

  constructor(options: DingTalkChannelOptions) {
    this.webhook = parseWebhook(options.webhook);
    this.secret = options.secret || undefined;
    this.mentions = options.mentions ?? {};
    validateMentions(this.mentions);
    this.name = options.name ?? 'dingtalk';
    this.maxAttempts = options.maxAttempts ?? 3;
    this.backoffMs = options.backoffMs ?? 1_000;
    this.throttlePauseMs = options.throttlePauseMs ?? 15_000;
    this.deadlineMs = options.deadlineMs ?? 25_000;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.sleep = options.sleep ?? defaultSleep;
    this.now = options.now ?? Date.now;
    this.limiter = new SlidingWindowLimiter(
      options.messagesPerMinute ?? ROBOT_MESSAGES_PER_MINUTE,
      60_000,
      this.now,
    );
    this.sharedBudget = options.sharedBudget ?? (() => undefined);
  }

  /**
   * What a batch is planned for: what the process's budget and the shared one's current window still allow a
   * message without a critical alert. Critical messages may go beyond it into the reserved slots.
   */
  private async remaining(shared: SharedSendBudget | undefined): Promise<number> {
    const local = this.limiter.remaining(false);
    if (!shared) return local;
    try {
      return Math.min(local, await shared.remaining());
    } catch {
      return local;
    }
  }

  /** Takes a slot of the shared budget's current window if one is free; never waits for the next window. */
  private async takeShared(shared: SharedSendBudget | undefined, critical: boolean): Promise<boolean> {
    if (!shared) return true;
    try {
      return (await shared.take(critical)) === 0;
    } catch {
      return true;
    }
  }

  async send(alerts: readonly Alert[]): Promise<DeliveryResult[]> {
    const deadline = this.now() + this.deadlineMs;
    const results = new Map<Alert, DeliveryResult>();
    const shared = this.sharedBudget();
    const remaining = await this.remaining(shared);
    for (const message of planDingTalkMessages(alerts, remaining, this.mentions)) {
      const critical = carriesCritical(message.alerts);
      const delivery = await withRetries((n) => this.attempt(message.body, n, shared, critical), {
        maxAttempts: this.maxAttempts,
        sleep: this.sleep,
        now: this.now,
        deadline,
      });
      for (const alert of message.alerts) {
        results.set(alert, { channel: this.name, ...delivery, ...(message.digest ? { digest: true } : {}) });
      }
    }
    return alerts.map((alert) => results.get(alert)!);
  }

  /** A fresh timestamp per request: DingTalk rejects signatures older than an hour. */
  private signedUrl(): URL {
    const url = new URL(this.webhook);
    if (this.secret) {
      const timestamp = this.now();
      url.searchParams.set('timestamp', String(timestamp));
      url.searchParams.set('sign', dingTalkSign(this.secret, timestamp));
    }
    return url;
  }

  private redact(text: string): string {
    return redact(text, [this.secret, this.webhook.searchParams.get('access_token') ?? undefined]);
  }

  private async attempt(
    body: DingTalkMessageBody,
    n: number,
    shared: SharedSendBudget | undefined,
    critical: boolean,
  ): Promise<AttemptOutcome> {
    // An invocation never sleeps for the robot's budget: a wait of up to a window held a burst's last digest,
    // and the invocation with it, for 13-28 s (BENCHMARKS.md "2026-12-07"). The alert fails here at once, its
    // audit record says so, and the email carries it (README "Alerts under load").
    const whose = critical ? '' : ' for non-critical alerts';
    if (this.limiter.remaining(critical) === 0)
      return { ok: false, error: `rate budget of the robot used up${whose}` };
    if (!(await this.takeShared(shared, critical)))
      return { ok: false, error: `rate budget of the robot used up${whose} by other instances` };
    this.limiter.record();
    const retry = backoff(this.backoffMs, n);
    let response: PostAnswer;
    try {
      response = await postJson(this.signedUrl(), JSON.stringify(body), this.timeoutMs);
    } catch (error) {
      return {
        ok: false,
        error: this.redact(`request failed: ${describeFailure(error)}`),
        retryAfterMs: retry,
      };
    }
    if (response.status >= 500 || response.status === 429) {
      return { ok: false, error: `HTTP ${response.status}`, retryAfterMs: retry };
    }
    if (response.status < 200 || response.status > 299)
      return { ok: false, error: `HTTP ${response.status}` };
    const answer = parseJson(response.body);
    if (
      !answer ||
      typeof answer !== 'object' ||
      typeof (answer as { errcode?: unknown }).errcode !== 'number'
    ) {
      return { ok: false, error: 'answer is not DingTalk JSON with an errcode' };
    }
    const { errcode, errmsg } = answer as { errcode: number; errmsg?: unknown };
    if (errcode === 0) return { ok: true };
    const error = this.redact(`errcode ${errcode}: ${singleLine(String(errmsg ?? ''), 200)}`);
    if (errcode === THROTTLED) return { ok: false, error, retryAfterMs: this.throttlePauseMs };
    if (errcode === BUSY) return { ok: false, error, retryAfterMs: retry };
    return { ok: false, error };
  }
}
