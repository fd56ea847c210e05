import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { closeServer, listenOn } from '../http';

/**
 * A local DingTalk custom robot webhook (`POST /robot/send?access_token=…`), behaving like the real one
 * (F-DINGTALK-WEBHOOK, F-DINGTALK-RATE-LIMIT): failures are HTTP 200 with an errcode, 加签 signatures are
 * checked (and timestamps older than an hour refused), 20 messages per minute per robot, then
 * a 10-minute block. It keeps what it accepted, for tests and the local demo.
 */

export interface RobotSettings {
  /** The robot's 加签 secret; without it, requests need no signature. */
  secret?: string;
  /** Custom-keyword security: a message must contain one of them. */
  keywords?: string[];
}

export interface DingTalkSinkOptions {
  /** Robots by access_token. */
  robots: Record<string, RobotSettings>;
  now?: () => number;
  /** Default 20, DingTalk's documented limit. */
  messagesPerMinute?: number;
  /** How long a robot stays blocked after going over the limit. Default 10 minutes. */
  blockMs?: number;
  /** Answer every request with this error, e.g. `{ errcode: 310000, errmsg: 'sign not match' }`. */
  forceError?: RobotError;
}

export interface RobotError {
  errcode: number;
  errmsg: string;
}

/** A failure for the next request: an HTTP status, an errcode, or accepting the message then answering `status` (a lost response). */
export type SinkFault = { status: number } | RobotError | { acceptThenStatus: number };

export interface ReceivedRobotMessage {
  token: string;
  receivedAt: number;
  msgUuid: string | undefined;
  body: Record<string, unknown>;
}

export interface SinkRequest {
  token: string | null;
  at: number;
  status: number;
  errcode?: number;
}

const LIMIT_BYTES = 20_000;
const HOUR_MS = 3_600_000;

// Real DingTalk errors (F-DINGTALK-ERRORS); 40035's wording for a malformed body is this emulator's own.
const ERRORS = {
  missingToken: { errcode: 40035, errmsg: 'missing parameter access_token' },
  unknownToken: { errcode: 300005, errmsg: 'token is not exist' },
  badTimestamp: { errcode: 310000, errmsg: 'invalid timestamp' },
  badSign: { errcode: 310000, errmsg: 'sign not match' },
  noKeyword: { errcode: 310000, errmsg: 'keywords not in content' },
  tooLong: { errcode: 460101, errmsg: `message too long, exceed ${LIMIT_BYTES} bytes` },
  badJson: { errcode: 40035, errmsg: 'invalid json body' },
  tooFast: { errcode: 130101, errmsg: 'send too fast, exceed 20 times per minute' },
} satisfies Record<string, RobotError>;

/**
 * Written independently of the client's signing on purpose: a sink reusing the client's function would accept
 * whatever mistake the client makes.
 */
function signatureMatches(secret: string, timestamp: string, sign: string): boolean {
  const expected = createHmac('sha256', secret).update(`${timestamp}\n${secret}`).digest();
  const given = Buffer.from(sign, 'base64');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export class DingTalkSink {
  private readonly options: DingTalkSinkOptions;
  private readonly now: () => number;
  private readonly server: Server;
  private readonly received: ReceivedRobotMessage[] = [];
  private readonly log: SinkRequest[] = [];
  private readonly faults: SinkFault[] = [];
  private readonly sends = new Map<string, number[]>();
  private readonly blockedUntil = new Map<string, number>();
  private readonly seenUuids = new Map<string, Set<string>>();
  private baseUrl = '';

  constructor(options: DingTalkSinkOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
    this.server = createServer((req, res) => {
      this.handle(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500).end();
      });
    });
  }

  /** Starts on a free port (or `port`) and resolves to the base URL. */
  async listen(port = 0, host = '127.0.0.1'): Promise<string> {
    this.baseUrl = await listenOn(this.server, port, host);
    return this.baseUrl;
  }

  webhook(token: string): string {
    return `${this.baseUrl}/robot/send?access_token=${encodeURIComponent(token)}`;
  }

  close(): Promise<void> {
    return closeServer(this.server);
  }

  /** Accepted messages, oldest first; for one robot when `token` is given. */
  messages(token?: string): ReceivedRobotMessage[] {
    return this.received.filter((m) => token === undefined || m.token === token);
  }

  /** Every request and how it was answered. */
  requests(token?: string): SinkRequest[] {
    return this.log.filter((r) => token === undefined || r.token === token);
  }

  /** Queues failures for the next requests, one each, in order. */
  inject(...faults: SinkFault[]): void {
    this.faults.push(...faults);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sink');
    const token = url.searchParams.get('access_token');
    const body = await readBody(req);
    const answer = (status: number, error?: RobotError): void => {
      this.log.push({ token, at: this.now(), status, ...(error ? { errcode: error.errcode } : {}) });
      if (status !== 200) {
        res.writeHead(status, { 'content-type': 'text/plain' }).end(`HTTP ${status}`);
        return;
      }
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify(error ?? { errcode: 0, errmsg: 'ok' }));
    };
    if (req.method !== 'POST' || url.pathname !== '/robot/send') return answer(404);

    const fault = this.faults.shift();
    if (fault && 'status' in fault) return answer(fault.status);
    if (fault && 'errcode' in fault) return answer(200, fault);
    const error = this.check(token, url, body);
    if (error) return answer(200, error);
    if (fault && 'acceptThenStatus' in fault) return answer(fault.acceptThenStatus);
    return answer(200);
  }

  /** Validates and, when valid, accepts the message; returns the error to answer otherwise. */
  private check(token: string | null, url: URL, raw: Buffer): RobotError | undefined {
    if (!token) return ERRORS.missingToken;
    const robot = this.options.robots[token];
    if (!robot) return ERRORS.unknownToken;
    if (this.options.forceError) return this.options.forceError;
    if (robot.secret) {
      const timestamp = url.searchParams.get('timestamp') ?? '';
      if (!/^\d{13}$/.test(timestamp) || Math.abs(this.now() - Number(timestamp)) > HOUR_MS) {
        return ERRORS.badTimestamp;
      }
      if (!signatureMatches(robot.secret, timestamp, url.searchParams.get('sign') ?? ''))
        return ERRORS.badSign;
    }
    if (raw.length > LIMIT_BYTES) return ERRORS.tooLong;
    let body: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(raw.toString('utf8'));
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return ERRORS.badJson;
      body = parsed as Record<string, unknown>;
    } catch {
      return ERRORS.badJson;
    }
    const content = JSON.stringify([body.markdown, body.text, body.link, body.actionCard, body.feedCard]);
    if (robot.keywords && !robot.keywords.some((keyword) => content.includes(keyword)))
      return ERRORS.noKeyword;

    const msgUuid = typeof body.msgUuid === 'string' ? body.msgUuid : undefined;
    const seen = this.seenUuids.get(token) ?? new Set<string>();
    this.seenUuids.set(token, seen);
    if (msgUuid && seen.has(msgUuid)) return undefined;
    const limited = this.rateLimited(token);
    if (limited) return limited;
    if (msgUuid) seen.add(msgUuid);
    this.received.push({ token, receivedAt: this.now(), msgUuid, body });
    return undefined;
  }

  private rateLimited(token: string): RobotError | undefined {
    const now = this.now();
    if ((this.blockedUntil.get(token) ?? 0) > now) return ERRORS.tooFast;
    const recent = (this.sends.get(token) ?? []).filter((at) => at > now - 60_000);
    if (recent.length >= (this.options.messagesPerMinute ?? 20)) {
      this.blockedUntil.set(token, now + (this.options.blockMs ?? 600_000));
      return ERRORS.tooFast;
    }
    recent.push(now);
    this.sends.set(token, recent);
    return undefined;
  }
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
