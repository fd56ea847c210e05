import { createHmac } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { inflateSync } from 'node:zlib';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import Sls, * as $Sls from '@alicloud/sls20201230';
import { CloudApiError } from '../errors';
import type { TrailLog } from '../events/trail-log';
import type { CallLog } from './calllog';
import { lz4Decompress } from './lz4';
import type { CloudCredentials } from './oss';
import { DEFAULT_RETRY, isRetryable, type RetryOptions, withRetry } from './retry';
import { decodeLogGroupList } from './sls-protobuf';

/** A shard range, as a log trigger names it: read from `cursor` up to (not including) `endCursor`. */
export interface ShardRange {
  project: string;
  logstore: string;
  shardId: number;
  cursor: string;
  endCursor: string;
}

export interface LogPage {
  logs: TrailLog[];
  /** Where the next page starts (`x-log-cursor`); equal to the range's end once it is read. */
  nextCursor: string;
  requestId?: string;
}

/**
 * The form PullLogs answers in: `json` through the SDK, `protobuf` through the documented raw request
 * (F-SLS-PULLLOGS-FORMAT), `unknown` until the first answer.
 */
export type PullLogsFormat = 'unknown' | 'json' | 'protobuf';

/** The SLS calls ossguard makes; the log-trigger function gets it from `createSlsApi`. */
export interface SlsApi {
  pullLogs(range: ShardRange, count: number): Promise<LogPage>;
  /** What this client has found PullLogs to answer in (absent on test doubles). */
  readonly format?: PullLogsFormat;
}

/** SLS error codes that mean "try again" besides 5xx (SLS answers read quota with 403). */
const RETRYABLE_SLS_CODES = new Set(['ReadQuotaExceed', 'ShardReadQuotaExceed', 'ServerBusy']);

/**
 * PullLogs, both ways (F-SLS-PULLLOGS-FORMAT). First through `@alicloud/sls20201230` and its
 * `@alicloud/gateway-sls` (LOG signature, lz4 bodies), which asks for JSON. The API reference says PullLogs
 * answers only protobuf; so when an answer is not JSON (the gateway's JSON.parse fails, the content type says
 * protobuf) or SLS refuses the JSON request, the page is read again the documented way
 * (`Accept: application/x-protobuf`, lz4, a `LogGroupList`), and this client stays with that form for every
 * later page. `endpoint` is an http(s) URL without the project: the log-trigger event's `source.endpoint`, or
 * `OSSGUARD_SLS_ENDPOINT`.
 */
export function createSlsApi(credentials: CloudCredentials, endpoint: string): SlsApi {
  const url = new URL(endpoint);
  const clients = new Map<string, Sls>();
  const clientFor = (project: string): Sls => {
    let client = clients.get(project);
    if (!client) {
      client = sdkClient(
        new $OpenApiUtil.Config({
          accessKeyId: credentials.accessKeyId,
          accessKeySecret: credentials.accessKeySecret,
          ...(credentials.securityToken ? { securityToken: credentials.securityToken } : {}),
          endpoint: projectHost(project, url.host),
          protocol: url.protocol.replace(':', ''),
          readTimeout: 10_000,
          connectTimeout: 5_000,
        }),
      );
      clients.set(project, client);
    }
    return client;
  };
  const pullProtobuf = protobufPuller(credentials, url);
  let format: PullLogsFormat = 'unknown';

  const pullJson = async (range: ShardRange, count: number): Promise<LogPage | undefined> => {
    let response: $Sls.PullLogsResponse;
    try {
      response = await clientFor(range.project).pullLogs(
        range.project,
        range.logstore,
        String(range.shardId),
        new $Sls.PullLogsRequest({ cursor: range.cursor, endCursor: range.endCursor, count }),
      );
    } catch (error) {
      if (jsonNotServed(error)) return undefined;
      throw error;
    }
    if (/protobuf/i.test(response.headers?.['content-type'] ?? '')) return undefined;
    const nextCursor = response.headers?.['x-log-cursor'];
    if (!nextCursor) throw new Error('PullLogs answered without an x-log-cursor header');
    const requestId = response.headers?.['x-log-requestid'];
    return {
      logs: (response.body?.logGroupList ?? []).flatMap(logsOf),
      nextCursor,
      ...(requestId ? { requestId } : {}),
    };
  };

  return {
    get format() {
      return format;
    },
    async pullLogs(range, count) {
      if (format !== 'protobuf') {
        const page = await pullJson(range, count);
        if (page) {
          format = 'json';
          return page;
        }
        format = 'protobuf';
      }
      return pullProtobuf(range, count);
    },
  };
}

/**
 * Whether the SDK's failure says the JSON form is not served, rather than that the call failed: its
 * gateway's JSON.parse threw on a body that is not JSON (a protobuf, or the empty body of an empty range), or
 * SLS refused the form. What SLS answers a JSON PullLogs is UNVERIFIED (F-SLS-PULLLOGS-FORMAT): a 406 or 415,
 * or a 400 whose message names the Accept header or protobuf, are taken as a refusal; any other error is
 * the call's own and is handled as before.
 */
function jsonNotServed(error: unknown): boolean {
  if (error instanceof SyntaxError) return true;
  const e = (error ?? {}) as SlsSdkError;
  const status = e.statusCode ?? e.data?.statusCode;
  if (status === 406 || status === 415) return true;
  return status === 400 && /\baccept\b|protobuf/i.test(e.message ?? '');
}

/** The documented PullLogs request (F-SLS-PULLLOGS-FORMAT), over one keep-alive agent per client. */
function protobufPuller(
  credentials: CloudCredentials,
  endpoint: URL,
): (range: ShardRange, count: number) => Promise<LogPage> {
  const secure = endpoint.protocol === 'https:';
  const agent = secure ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
  const send = secure ? httpsRequest : httpRequest;
  return (range, count) =>
    new Promise((resolve, reject) => {
      const host = projectHost(range.project, endpoint.host);
      const path = `/logstores/${range.logstore}/shards/${range.shardId}`;
      const query: Array<[string, string]> = [
        ['type', 'log'],
        ['cursor', range.cursor],
        ['end_cursor', range.endCursor],
        ['count', String(count)],
      ];
      const headers: Record<string, string> = {
        accept: 'application/x-protobuf',
        'accept-encoding': 'lz4',
        date: new Date().toUTCString(),
        host,
        // Common headers (F-SLS-COMMON-HEADERS).
        'x-log-apiversion': '0.6.0',
        'x-log-bodyrawsize': '0',
        'x-log-signaturemethod': 'hmac-sha256',
        ...(credentials.securityToken ? { 'x-acs-security-token': credentials.securityToken } : {}),
      };
      headers.authorization = `LOG ${credentials.accessKeyId}:${logSignature(path, query, headers, credentials.accessKeySecret)}`;
      const target = new URL(`${endpoint.protocol}//${host}`);
      const search = query.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
      const request = send(
        {
          agent,
          method: 'GET',
          hostname: target.hostname.replace(/^\[|\]$/g, ''),
          port: target.port || (secure ? 443 : 80),
          path: `${path}?${search}`,
          headers,
          timeout: 10_000,
        },
        (response) => {
          readBody(response).then((body) => {
            try {
              resolve(protobufPage(response, body));
            } catch (error) {
              reject(error);
            }
          }, reject);
        },
      );
      request.on('timeout', () => request.destroy(new Error('ReadTimeout(10000): PullLogs')));
      request.on('error', reject);
      request.end();
    });
}

/**
 * The LOG signature v1 as gateway-sls computes it (F-SLS-LOG-SIGNATURE): method, Content-MD5, Content-Type,
 * Date, the `x-log-`/`x-acs-` headers sorted, then the path and the sorted query with raw values;
 * HMAC-SHA256, base64.
 */
function logSignature(
  path: string,
  query: ReadonlyArray<[string, string]>,
  headers: Readonly<Record<string, string>>,
  secret: string,
): string {
  const signed = Object.keys(headers)
    .filter((name) => name.startsWith('x-log-') || name.startsWith('x-acs-'))
    .sort()
    .map((name) => `${name}:${headers[name]}\n`)
    .join('');
  const resource = `${path}?${[...query]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&')}`;
  const text = `GET\n\n\n${headers.date}\n${signed}${resource}`;
  return createHmac('sha256', secret).update(text, 'utf8').digest('base64');
}

async function readBody(response: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const header = (response: IncomingMessage, name: string): string | undefined => {
  const value = response.headers[name];
  return Array.isArray(value) ? value[0] : value;
};

/** A page from a protobuf answer; an error answer becomes the SDK's error shape, for `slsError`. */
function protobufPage(response: IncomingMessage, body: Buffer): LogPage {
  const status = response.statusCode ?? 0;
  const requestId = header(response, 'x-log-requestid');
  if (status < 200 || status >= 300) {
    let answer: { errorCode?: string; errorMessage?: string } = {};
    try {
      answer = JSON.parse(body.toString('utf8'));
    } catch {
      // Not an SLS error body (a proxy's page): the status decides.
    }
    const code = answer.errorCode || 'UnknownError';
    throw Object.assign(new Error(`${code}: ${answer.errorMessage ?? `HTTP ${status}`}`), {
      code,
      statusCode: status,
      data: { statusCode: status, ...(requestId ? { requestId } : {}) },
    });
  }
  const nextCursor = header(response, 'x-log-cursor');
  if (!nextCursor) throw new Error('PullLogs answered without an x-log-cursor header');
  const rawSize = Number(header(response, 'x-log-bodyrawsize') ?? body.length);
  const compression = header(response, 'x-log-compresstype')?.toLowerCase();
  let raw = body;
  if (rawSize === 0) raw = Buffer.alloc(0);
  else if (compression === 'lz4') raw = lz4Decompress(body, rawSize);
  // `deflate` is zlib-wrapped, as gateway-sls-util and the Python SDK inflate it.
  else if (compression === 'deflate' || compression === 'gzip') raw = inflateSync(body);
  else if (compression) throw new Error(`PullLogs answered with x-log-compresstype ${compression}`);
  return { logs: decodeLogGroupList(raw), nextCursor, ...(requestId ? { requestId } : {}) };
}

/**
 * SLS wants the project as the host's first label. The generated PullLogs (sls20201230 5.9.0) passes no
 * `hostMap.project`, so the gateway sends the bare endpoint as host: the project goes into the endpoint
 * here. An IP endpoint (the local cloud) cannot carry a label; its emulator finds the logstore by name.
 */
function projectHost(project: string, host: string): string {
  return isAddressHost(host) ? host : `${project}.${host}`;
}

/** One flat record per log, with the group's topic and source as `__topic__` / `__source__`, as SLS shows them. */
function logsOf(group: $Sls.LogGroup): TrailLog[] {
  const shared: Record<string, string> = {
    ...(group.topic ? { __topic__: group.topic } : {}),
    ...(group.source ? { __source__: group.source } : {}),
  };
  for (const tag of group.logTags ?? []) if (tag.key) shared[`__tag__:${tag.key}`] = tag.value ?? '';
  return (group.logItems ?? []).map((item) => {
    const log: Record<string, string> = { ...shared, __time__: String(item.time ?? '') };
    for (const content of item.contents ?? []) if (content.key) log[content.key] = content.value ?? '';
    return log;
  });
}

type SdkClass = new (config: $OpenApiUtil.Config) => Sls;

/** The header that names the project to the local cloud when its endpoint is an address (see below). */
export const LOCAL_PROJECT_HEADER = 'x-ossguard-local-project';

interface ExecuteRequest {
  hostMap?: Record<string, string>;
  headers?: Record<string, string>;
}

/** Whether an endpoint host is an address (the local cloud), which cannot take the project as a label. */
export function isAddressHost(host: string): boolean {
  const name = host.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return isIP(name) !== 0 || name === 'localhost';
}

/**
 * The SDK client. CommonJS `exports.default` interop, as in ram-sdk.ts: esbuild gives the exports object,
 * vitest the class. SLS names the project in the host (`<project>.<endpoint>`), which gateway-sls builds from
 * `hostMap`; with `local`, an address endpoint, the project travels in a header instead.
 */
export function sdkClient(config: $OpenApiUtil.Config, local = false): Sls {
  const imported = Sls as SdkClass & { default?: SdkClass };
  const Base = imported.default ?? imported;
  if (!local) return new Base(config);
  class LocalSls extends Base {
    override async execute(
      params: $OpenApiUtil.Params,
      request: $OpenApiUtil.OpenApiRequest,
      runtime: Parameters<Sls['execute']>[2],
    ): ReturnType<Sls['execute']> {
      const r = request as unknown as ExecuteRequest;
      const project = r.hostMap?.project;
      if (project) {
        r.headers = { ...(r.headers ?? {}), [LOCAL_PROJECT_HEADER]: project };
        r.hostMap = {};
      }
      return super.execute(params, request, runtime);
    }
  }
  return new LocalSls(config);
}

interface SlsSdkError {
  code?: string;
  statusCode?: number;
  message?: string;
  data?: { requestId?: string; statusCode?: number };
}

export interface PullOptions {
  /** Log groups per PullLogs call (F-SLS-PULLLOGS-COUNT); 100 unless given. */
  count?: number;
  retry?: RetryOptions;
}

/**
 * Reads a shard range page by page with retries on faults, logging each page's request id, and yields each
 * page's logs as it arrives: a caller that handles a page before asking for the next holds one page in
 * memory, not the range (a range of 100,000 trail logs is ~100 MB of text; BENCHMARKS.md, log trigger).
 */
export async function* pullPages(
  sls: SlsApi,
  range: ShardRange,
  calls: CallLog,
  options: PullOptions = {},
): AsyncGenerator<TrailLog[]> {
  let cursor = range.cursor;
  while (cursor !== range.endCursor) {
    const page = await withRetry(async () => {
      try {
        const result = await sls.pullLogs({ ...range, cursor }, options.count ?? 100);
        calls.record({ service: 'sls', operation: 'PullLogs', requestId: result.requestId, ok: true });
        return result;
      } catch (error) {
        throw slsError(error, calls);
      }
    }, options.retry ?? DEFAULT_RETRY);
    yield page.logs;
    // A cursor that does not move would loop for ever; SLS answers the range end once nothing is left.
    if (page.nextCursor === cursor) break;
    cursor = page.nextCursor;
  }
}

/** The whole range at once (`pullPages`, collected). */
export async function pullRange(
  sls: SlsApi,
  range: ShardRange,
  calls: CallLog,
  options: PullOptions = {},
): Promise<TrailLog[]> {
  const logs: TrailLog[] = [];
  for await (const page of pullPages(sls, range, calls, options)) for (const log of page) logs.push(log);
  return logs;
}

function slsError(error: unknown, calls: CallLog): CloudApiError {
  const e = (error ?? {}) as SlsSdkError;
  const code = e.code || 'UnknownError';
  const status = e.statusCode ?? e.data?.statusCode;
  const requestId = e.data?.requestId;
  calls.record({ service: 'sls', operation: 'PullLogs', ...(requestId ? { requestId } : {}), ok: false });
  return new CloudApiError(
    {
      service: 'sls',
      operation: 'PullLogs',
      code,
      ...(status === undefined ? {} : { status }),
      retryable: RETRYABLE_SLS_CODES.has(code) || isRetryable(status, code, e.message),
      // The SDK's message repeats the code (`SignatureNotMatch: Signature not matched.`).
      message: ((e.message ?? String(error)).split('\n')[0] ?? '').replace(`${code}: `, ''),
      ...(requestId ? { requestId } : {}),
    },
    { cause: error },
  );
}
