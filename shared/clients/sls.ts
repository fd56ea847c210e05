import { isIP } from 'node:net';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import Sls, * as $Sls from '@alicloud/sls20201230';
import { CloudApiError } from '../errors';
import type { TrailLog } from '../events/flattened';
import type { CallLog } from './calllog';
import type { CloudCredentials } from './oss';
import { DEFAULT_RETRY, isRetryable, type RetryOptions, withRetry } from './retry';

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

/** The SLS calls ossguard makes; the log-trigger function gets it from `createSlsApi`. */
export interface SlsApi {
  pullLogs(range: ShardRange, count: number): Promise<LogPage>;
}

/** SLS error codes that mean "try again" besides 5xx (SLS answers read quota with 403). */
const RETRYABLE_SLS_CODES = new Set(['ReadQuotaExceed', 'ShardReadQuotaExceed', 'ServerBusy']);

/**
 * PullLogs through `@alicloud/sls20201230` and its `@alicloud/gateway-sls` (LOG signature, lz4 bodies).
 * `endpoint` is an http(s) URL without the project: the log-trigger event's `source.endpoint`, or
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
  return {
    async pullLogs(range, count) {
      const response = await clientFor(range.project).pullLogs(
        range.project,
        range.logstore,
        String(range.shardId),
        new $Sls.PullLogsRequest({ cursor: range.cursor, endCursor: range.endCursor, count }),
      );
      const nextCursor = response.headers?.['x-log-cursor'];
      if (!nextCursor) throw new Error('PullLogs answered without an x-log-cursor header');
      const requestId = response.headers?.['x-log-requestid'];
      return {
        logs: (response.body?.logGroupList ?? []).flatMap(logsOf),
        nextCursor,
        ...(requestId ? { requestId } : {}),
      };
    },
  };
}

/**
 * SLS wants the project as the host's first label. The generated PullLogs (sls20201230 5.9.0) passes no
 * `hostMap.project`, so the gateway sends the bare endpoint as host: the project goes into the endpoint
 * here. An IP endpoint (the local cloud) cannot carry a label; its emulator finds the logstore by name.
 */
function projectHost(project: string, host: string): string {
  const name = host.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return isIP(name) !== 0 || name === 'localhost' ? host : `${project}.${host}`;
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

/** CommonJS `exports.default` interop, as in ram-sdk.ts: esbuild gives the exports object, vitest the class. */
function sdkClient(config: $OpenApiUtil.Config): Sls {
  const imported = Sls as SdkClass & { default?: SdkClass };
  const Client = imported.default ?? imported;
  return new Client(config);
}

interface SlsSdkError {
  code?: string;
  statusCode?: number;
  message?: string;
  data?: { requestId?: string; statusCode?: number };
}

/** Reads a shard range page by page with retries on faults, logging each page's request id. */
export async function pullRange(
  sls: SlsApi,
  range: ShardRange,
  calls: CallLog,
  options: { count?: number; retry?: RetryOptions } = {},
): Promise<TrailLog[]> {
  const logs: TrailLog[] = [];
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
    logs.push(...page.logs);
    // A cursor that does not move would loop for ever; SLS answers the range end once nothing is left.
    if (page.nextCursor === cursor) break;
    cursor = page.nextCursor;
  }
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
