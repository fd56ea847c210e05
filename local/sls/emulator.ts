import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { lz4Compress } from '../../shared/clients/lz4';
import { HttpEmulator } from '../http';
import { type Caller, type IdentityStore, newRequestId } from '../identity';
import { SLS_ERRORS, SlsError, type SlsErrorSpec } from './errors';
import { isManagementRequest, LOCAL_PROJECT_HEADER, SlsManagement } from './management';
import { encodeLogGroupList } from './protobuf';
import { searchLogs } from './query';
import { parseAuthorization, signLog, stringToSign } from './signature';
import { positionOf, SlsStore, type StoredGroup } from './store';

export type SlsAuthorize = (caller: Caller, action: string, resource: string) => boolean;

export interface SlsEmulatorOptions {
  identities: IdentityStore;
  region?: string;
  /** RAM authorisation after authentication; without it every authenticated caller may read. */
  authorize?: SlsAuthorize;
  /** Fault injection: an error SLS answers instead of serving the call. */
  intercept?: (call: {
    operation: 'PullLogs';
    project: string;
    logstore: string;
  }) => SlsErrorSpec | undefined;
  latencyMs?: number;
  now?: () => Date;
  /**
   * What PullLogs does with a request that asks for JSON (`accept: application/json`, what
   * @alicloud/sls20201230 sends). The API reference says PullLogs reads "only the Protocol Buffer format" and is
   * "not supported by the OpenAPI SDK" (F-SLS-PULLLOGS-FORMAT); whether the service refuses JSON, ignores
   * the Accept header or serves JSON anyway is UNVERIFIED, so the emulator can do each:
   * - `served` (default): JSON, as the SDK expects;
   * - `refused`: the error `JSON_REFUSED` below;
   * - `protobuf`: the protobuf body regardless of Accept, with `content-type: application/x-protobuf`.
   */
  pullLogsJson?: 'served' | 'refused' | 'protobuf';
}

/**
 * The answer `pullLogsJson: 'refused'` gives. UNVERIFIED (F-SLS-PULLLOGS-FORMAT): no source shows what SLS
 * answers a PullLogs that asks for JSON, if it refuses one; a 400 `ParameterInvalid` naming the Accept header
 * is the shape of SLS's other refusals of a request parameter. The client falls back on it and on any answer
 * that does not decode as JSON (shared/clients/sls.ts).
 */
export const JSON_REFUSED: SlsErrorSpec = {
  status: 400,
  code: 'ParameterInvalid',
  message: 'Accept application/json is not supported by PullLogs; use application/x-protobuf.',
};

/** SLS refuses requests whose `Date` is this far from its clock (RequestTimeExpired). */
const MAX_SKEW_MS = 15 * 60_000;
/** Largest `count` PullLogs accepts: 1 to 1000 (F-SLS-PULLLOGS-COUNT). */
const MAX_COUNT = 1000;
const PULL_TYPES: ReadonlySet<string> = new Set(['log', 'logs']);

/** PullLogs is authorised as log:GetCursorOrData (F-SLS-PULLLOGS-RAM-ACTION). */
export const PULL_LOGS_ACTION = 'log:GetCursorOrData';
/** GetLogs is authorised as log:GetLogStoreLogs (F-SLS-GETLOGS). */
export const GET_LOGS_ACTION = 'log:GetLogStoreLogs';
/** GetLogs: `GET /logstores/<logstore>?type=log&from&to&query&line&offset` (F-SLS-GETLOGS). */
const GET_LOGS_PATH = /^\/logstores\/([^/]+)$/;

interface Target {
  project: string;
  logstore: string;
  shardId: number;
  query: Array<[string, string]>;
}

/**
 * The local Simple Log Service, for exactly the call ossguard makes: PullLogs, in the form the request's
 * `Accept` asks for: the JSON the generated SDK wants (`accept: application/json`, body `{logGroupList: [...]}`)
 * or the documented `LogGroupList` protobuf (`accept: application/x-protobuf`, F-SLS-PULLLOGS-FORMAT), and,
 * when the client accepts it, lz4-compressed with `x-log-compresstype` / `x-log-bodyrawsize`. Requests must
 * carry the LOG signature of a key the IdentityStore knows (with its STS token for role sessions,
 * F-SLS-LOG-SIGNATURE).
 */
export class SlsEmulator extends HttpEmulator {
  readonly store = new SlsStore();
  readonly region: string;
  /** Projects and logstores with their TTL (CreateProject, GetLogStore, UpdateLogStore, …): management.ts. */
  readonly management: SlsManagement;
  private readonly now: () => Date;
  private pulls = 0;
  /** What PullLogs does with a JSON request (the option of that name); may be changed while serving. */
  pullLogsJson: NonNullable<SlsEmulatorOptions['pullLogsJson']>;
  /** PullLogs answers by form: JSON pages, protobuf pages, and JSON requests refused (`pullLogsJson`). */
  readonly answers = { json: 0, protobuf: 0, refused: 0 };
  /** GetLogs answers still to be marked `x-log-progress: Incomplete` (`answerIncomplete`). */
  private incompleteAnswers = 0;

  constructor(private readonly options: SlsEmulatorOptions) {
    super();
    this.region = options.region ?? 'cn-hangzhou';
    this.pullLogsJson = options.pullLogsJson ?? 'served';
    this.now = options.now ?? (() => new Date());
    this.management = new SlsManagement({
      store: this.store,
      identities: options.identities,
      region: this.region,
      now: this.now,
      ...(options.authorize ? { authorize: options.authorize } : {}),
      ...(options.latencyMs ? { latencyMs: options.latencyMs } : {}),
    });
  }

  /**
   * The next `count` GetLogs answers say `x-log-progress: Incomplete`, as SLS does when a query could not read
   * everything in time (F-SLS-GETLOGS). What such an answer holds is UNVERIFIED (F-SLS-GETLOGS-INCOMPLETE-BODY):
   * here the first half of the page a complete one would give, so a client that takes it as complete visibly
   * loses calls.
   */
  answerIncomplete(count: number): void {
    this.incompleteAnswers = count;
  }

  /** PullLogs calls answered so far, successful or not. */
  get pullCount(): number {
    return this.pulls;
  }

  protected async serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (isGetLogs(request)) return this.getLogs(request, response);
    if (isManagementRequest(request)) return this.management.serve(request, response);
    const requestId = newRequestId();
    for await (const _ of request) {
      // PullLogs has no body; drain whatever came so the socket can be reused.
    }
    let status = 200;
    let body: Buffer;
    const headers: Record<string, string> = {
      'x-log-requestid': requestId,
      'content-type': 'application/json',
    };
    try {
      const target = this.route(request);
      this.pulls++;
      const caller = this.authenticate(
        request,
        `/logstores/${target.logstore}/shards/${target.shardId}`,
        target.query,
      );
      const resource = `acs:log:${this.region}:${this.options.identities.accountId}:project/${target.project}/logstore/${target.logstore}`;
      if (this.options.authorize && !this.options.authorize(caller, PULL_LOGS_ACTION, resource)) {
        throw new SlsError(
          SLS_ERRORS.Unauthorized,
          `denied by sts or ram, action: ${PULL_LOGS_ACTION}, resource: ${resource}`,
        );
      }
      const fault = this.options.intercept?.({
        operation: 'PullLogs',
        project: target.project,
        logstore: target.logstore,
      });
      if (fault) throw new SlsError(fault);
      const protobuf = acceptsProtobuf(request.headers.accept) || this.pullLogsJson === 'protobuf';
      if (!protobuf && this.pullLogsJson === 'refused') {
        this.answers.refused++;
        throw new SlsError(JSON_REFUSED);
      }
      const page = this.pull(target);
      headers['x-log-cursor'] = page.next;
      headers['x-log-count'] = String(page.groups.length);
      let raw: Buffer;
      if (protobuf) {
        this.answers.protobuf++;
        raw = encodeLogGroupList(page.groups);
        headers['content-type'] = 'application/x-protobuf';
      } else {
        this.answers.json++;
        raw = Buffer.from(JSON.stringify({ logGroupList: page.groups.map(jsonGroup) }));
      }
      body = raw;
      if (acceptsLz4(request.headers['accept-encoding'])) {
        // SLS sends the decoded size in x-log-bodyrawsize, not in front of the block.
        body = lz4Compress(raw);
        headers['x-log-compresstype'] = 'lz4';
      }
      headers['x-log-bodyrawsize'] = String(raw.length);
    } catch (error) {
      const failure =
        error instanceof SlsError ? error : new SlsError(SLS_ERRORS.InternalServerError, String(error));
      status = failure.status;
      body = Buffer.from(JSON.stringify({ errorCode: failure.code, errorMessage: failure.message }));
    }
    if (this.options.latencyMs) await sleep(this.options.latencyMs);
    response.writeHead(status, { ...headers, 'content-length': String(body.length) });
    response.end(body);
  }

  private route(request: IncomingMessage): Target {
    const url = new URL(request.url ?? '/', 'http://sls.local');
    const match = /^\/logstores\/([^/]+)\/shards\/(\d+)$/.exec(url.pathname);
    const query = rawQuery(request.url ?? '');
    const type = query.find(([name]) => name === 'type')?.[1];
    // The request syntax says `type=log`, the same page's example `type=logs` (F-SLS-PULLLOGS-COUNT): both.
    if (request.method !== 'GET' || !match?.[1] || match[2] === undefined || !PULL_TYPES.has(type ?? '')) {
      throw new SlsError(SLS_ERRORS.NotFound, `${request.method} ${url.pathname}`);
    }
    const logstore = decodeURIComponent(match[1]);
    const project = this.projectOf(request.headers.host ?? '', logstore);
    return { project, logstore, shardId: Number(match[2]), query };
  }

  /**
   * The project is the first label of the host (`<project>.<endpoint>`). A host that is the emulator's own
   * address (what the SDK sends for an IP endpoint) names none; the logstore name then decides.
   */
  private projectOf(host: string, logstore: string): string {
    const name = host.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
    const bare = isIP(name) !== 0 || name === 'localhost' || !name.includes('.');
    const project = bare ? this.store.projectOf(logstore) : name.split('.')[0];
    if (!project) {
      throw new SlsError(SLS_ERRORS.LogStoreNotExist, `logstore ${logstore} is in no single project`);
    }
    return project;
  }

  /**
   * GetLogs, for exactly the search the incident report sends (local/sls/query.ts): the logs as a JSON array,
   * `x-log-progress` (`Complete` unless `answerIncomplete`) and `x-log-count` (F-SLS-GETLOGS).
   */
  private async getLogs(request: IncomingMessage, response: ServerResponse): Promise<void> {
    for await (const _ of request) {
      // GetLogs has no body.
    }
    const headers: Record<string, string> = {
      'x-log-requestid': newRequestId(),
      'content-type': 'application/json',
    };
    let status = 200;
    let body: string;
    try {
      const url = new URL(request.url ?? '/', 'http://sls.local');
      const logstore = decodeURIComponent(GET_LOGS_PATH.exec(url.pathname)?.[1] ?? '');
      const query = rawQuery(request.url ?? '');
      const caller = this.authenticate(request, `/logstores/${logstore}`, query);
      const named = request.headers[LOCAL_PROJECT_HEADER];
      const project =
        typeof named === 'string' ? named : this.projectOf(request.headers.host ?? '', logstore);
      const resource = `acs:log:${this.region}:${this.options.identities.accountId}:project/${project}/logstore/${logstore}`;
      if (this.options.authorize && !this.options.authorize(caller, GET_LOGS_ACTION, resource))
        throw new SlsError(
          SLS_ERRORS.Unauthorized,
          `denied by sts or ram, action: ${GET_LOGS_ACTION}, resource: ${resource}`,
        );
      const shards = this.store.shards(project, logstore);
      if (shards === 'no-project') throw new SlsError(SLS_ERRORS.ProjectNotExist, project);
      if (shards === 'no-logstore') throw new SlsError(SLS_ERRORS.LogStoreNotExist, logstore);
      const param = (name: string) => query.find(([n]) => n === name)?.[1];
      const logs = searchLogs(shards, {
        from: Number(param('from')),
        to: Number(param('to')),
        query: param('query') ?? '',
        line: Number(param('line') ?? 100),
        offset: Number(param('offset') ?? 0),
        reverse: param('reverse') === 'true',
      });
      const incomplete = this.incompleteAnswers > 0;
      if (incomplete) this.incompleteAnswers--;
      const answered = incomplete ? logs.slice(0, Math.floor(logs.length / 2)) : logs;
      headers['x-log-progress'] = incomplete ? 'Incomplete' : 'Complete';
      headers['x-log-count'] = String(answered.length);
      body = JSON.stringify(answered);
    } catch (error) {
      const failure =
        error instanceof SlsError ? error : new SlsError(SLS_ERRORS.InternalServerError, String(error));
      status = failure.status;
      body = JSON.stringify({ errorCode: failure.code, errorMessage: failure.message });
    }
    if (this.options.latencyMs) await sleep(this.options.latencyMs);
    response.writeHead(status, { ...headers, 'content-length': String(Buffer.byteLength(body)) });
    response.end(body);
  }

  private authenticate(
    request: IncomingMessage,
    path: string,
    query: ReadonlyArray<readonly [string, string]>,
  ): Caller {
    const headers = flatHeaders(request);
    const claim = parseAuthorization(headers.authorization);
    if (!claim)
      throw new SlsError(SLS_ERRORS.Unauthorized, 'the Authorization header is not LOG <id>:<signature>');
    const found = this.options.identities.lookup(claim.accessKeyId);
    if (found.kind !== 'ok') throw new SlsError(SLS_ERRORS.InvalidAccessKeyId, claim.accessKeyId);
    const token = this.options.identities.checkToken(found, headers['x-acs-security-token'], this.now());
    if (token === 'expired') throw new SlsError(SLS_ERRORS.SecurityTokenExpired);
    if (token !== 'ok') throw new SlsError(SLS_ERRORS.Unauthorized, `security token ${token}`);
    const expected = signLog(stringToSign(request.method ?? 'GET', path, query, headers), found.secret);
    if (expected !== claim.signature) throw new SlsError(SLS_ERRORS.SignatureNotMatch);
    const date = Date.parse(headers.date ?? '');
    if (!Number.isFinite(date) || Math.abs(date - this.now().getTime()) > MAX_SKEW_MS) {
      throw new SlsError(SLS_ERRORS.RequestTimeExpired, `date ${headers.date ?? '(none)'}`);
    }
    return found.caller;
  }

  private pull({ project, logstore, shardId, query }: Target) {
    const shards = this.store.shards(project, logstore);
    if (shards === 'no-project') throw new SlsError(SLS_ERRORS.ProjectNotExist, project);
    if (shards === 'no-logstore') throw new SlsError(SLS_ERRORS.LogStoreNotExist, logstore);
    const groups = shards[shardId];
    if (!groups) throw new SlsError(SLS_ERRORS.ShardNotExist, String(shardId));
    const param = (name: string) => query.find(([n]) => n === name)?.[1];
    const from = positionOf(param('cursor') ?? '');
    const endParam = param('end_cursor');
    const end = endParam === undefined ? groups.length : positionOf(endParam);
    const count = Number(param('count') ?? MAX_COUNT);
    if (
      from === undefined ||
      end === undefined ||
      from > groups.length ||
      end > groups.length ||
      from > end
    ) {
      throw new SlsError(SLS_ERRORS.InvalidCursor, `${param('cursor')}..${endParam}`);
    }
    if (!Number.isInteger(count) || count < 1 || count > MAX_COUNT) {
      throw new SlsError(SLS_ERRORS.ParameterInvalid, `count ${param('count')}`);
    }
    // `count` counts log groups, not logs (F-SLS-PULLLOGS-COUNT).
    const to = Math.min(end, from + count);
    return { next: Buffer.from(String(to)).toString('base64'), groups: groups.slice(from, to) };
  }
}

/** A log group as the SDK's JSON model names it (`LogGroup`/`LogItem`/`LogContent`/`LogTag` in sls20201230). */
const jsonGroup = (group: StoredGroup) => ({
  Topic: group.topic,
  Source: group.source,
  LogTags: Object.entries(group.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
  LogItems: group.logs.map((log) => ({
    Time: group.time,
    Contents: Object.entries(log).map(([Key, Value]) => ({ Key, Value })),
  })),
});

const isGetLogs = (request: IncomingMessage): boolean =>
  request.method === 'GET' &&
  GET_LOGS_PATH.test((request.url ?? '/').split('?')[0] ?? '/') &&
  rawQuery(request.url ?? '').some(([name, value]) => name === 'type' && value === 'log');

const acceptsLz4 = (header: string | undefined): boolean =>
  (header ?? '').split(',').some((value) => value.trim().toLowerCase() === 'lz4');

const acceptsProtobuf = (header: string | undefined): boolean =>
  (header ?? '')
    .split(',')
    .some((value) => value.split(';')[0]?.trim().toLowerCase() === 'application/x-protobuf');

/** Query parameters percent-decoded but with `+` kept: base64 cursors carry `+`, which the SDK encodes. */
function rawQuery(url: string): Array<[string, string]> {
  const search = url.includes('?') ? url.slice(url.indexOf('?') + 1) : '';
  return search
    .split('&')
    .filter(Boolean)
    .map((pair) => {
      const at = pair.indexOf('=');
      const name = at < 0 ? pair : pair.slice(0, at);
      return [decodeURIComponent(name), at < 0 ? '' : decodeURIComponent(pair.slice(at + 1))];
    });
}

function flatHeaders(request: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(',') : value;
  }
  return out;
}
