import { $OpenApiUtil } from '@alicloud/openapi-core';
import * as $Sls from '@alicloud/sls20201230';
import { CallLog } from '../clients/calllog';
import type { CloudCredentials } from '../clients/oss';
import { DEFAULT_RETRY, withRetry } from '../clients/retry';
import { isAddressHost, sdkClient } from '../clients/sls';
import { CloudApiError } from '../errors';
import { recordFromTrailLog, type TrailLog } from '../events/trail-log';
import type { PagedLookup } from '../replay/lookup';
import { CallPacer } from '../replay/pacer';
import { backoff, defaultSleep } from '../retry';

/** An STS session an AssumeRole call minted (F-ACTIONTRAIL-STS-ASSUMEROLE). */
export interface MintedSession {
  roleArn: string;
  sessionName?: string;
  /** The session's own key (`STS.…`): the session's calls are signed with it, not with the key it was minted with. */
  stsAccessKeyId?: string;
  /** When its credentials expire. */
  expiration?: string;
}

/** One call made with the key, as the trail recorded it: only what the report shows. */
export interface KeyCall {
  eventId: string;
  time: string;
  eventName: string;
  service: string;
  region: string;
  sourceIp: string;
  userAgent: string;
  /** `Read` or `Write` when the record says (F-SLS-TRAIL-INDEX-FIELDS lists `event.eventRW`). */
  readWrite?: string;
  /** Set when the service refused the call (F-ACTIONTRAIL-ERROR-FIELDS). */
  errorCode?: string;
  errorMessage?: string;
  bucket?: string;
  objectKey?: string;
  /** Other resources the record names (`ACS::RAM::User` → names), for changes outside OSS. */
  resources: Record<string, string[]>;
  userName?: string;
  /** The key the call was signed with. */
  accessKeyId?: string;
  /** For a successful STS AssumeRole: the session it minted. */
  session?: MintedSession;
}

/** Where the calls came from: the trail's logstore, or ActionTrail's own 90-day event history. */
export type TrailSource = 'logstore' | 'lookup-events';

/** Calls found so far, for a progress line. */
export type TrailProgress = (found: number, pages: number) => void;

/** One page of the key's calls. */
export interface TrailPage {
  calls: KeyCall[];
  /** False when SLS still answered the page `Incomplete` after the retries: calls may be missing (F-SLS-GETLOGS). */
  complete: boolean;
}

/** A source of the key's calls, oldest or newest first, a page at a time. */
export interface TrailReader {
  source: TrailSource;
  calls(accessKeyId: string, from: Date, to: Date, progress: TrailProgress): AsyncGenerator<TrailPage>;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** A record from either source as a KeyCall; undefined for a record without a name or a time. */
export function callOf(record: unknown): KeyCall | undefined {
  if (!isObject(record)) return undefined;
  const eventName = str(record.eventName);
  const time = str(record.eventTime);
  if (!eventName || !time) return undefined;
  const identity = isObject(record.userIdentity) ? record.userIdentity : {};
  const params = isObject(record.requestParameters) ? record.requestParameters : {};
  const referenced = isObject(record.referencedResources) ? record.referencedResources : {};
  const resources: Record<string, string[]> = {};
  for (const [type, names] of Object.entries(referenced))
    if (Array.isArray(names)) resources[type] = names.filter((n): n is string => typeof n === 'string');
  const bucket = str(params.bucketName) ?? resources['ACS::OSS::Bucket']?.[0];
  const objectKey = str(params.objectKey);
  const errorCode = str(record.errorCode);
  const errorMessage = str(record.errorMessage);
  const readWrite = str(record.eventRW);
  const userName = str(identity.userName);
  const accessKeyId = str(identity.accessKeyId);
  const session = errorCode ? undefined : sessionOf(eventName, params, record.responseElements);
  return {
    eventId: str(record.eventId) ?? `${time}/${eventName}`,
    time,
    eventName,
    service: str(record.serviceName) ?? '',
    region: str(record.acsRegion) ?? '',
    sourceIp: str(record.sourceIpAddress) ?? '',
    userAgent: str(record.userAgent) ?? '',
    ...(readWrite ? { readWrite } : {}),
    ...(errorCode ? { errorCode } : {}),
    ...(errorMessage ? { errorMessage } : {}),
    ...(bucket ? { bucket } : {}),
    ...(objectKey !== undefined ? { objectKey } : {}),
    ...(userName ? { userName } : {}),
    ...(accessKeyId ? { accessKeyId } : {}),
    ...(session ? { session } : {}),
    resources,
  };
}

/**
 * The session an AssumeRole record shows: the role and session name it asked for (`requestParameters.RoleArn`,
 * `RoleSessionName`), and the credentials' key and expiry ActionTrail keeps in `responseElements.credentials`
 * with the secret masked (F-ACTIONTRAIL-STS-ASSUMEROLE).
 */
function sessionOf(eventName: string, params: Json, response: unknown): MintedSession | undefined {
  const roleArn = str(params.RoleArn);
  if (eventName !== 'AssumeRole' || !roleArn) return undefined;
  const credentials = isObject(response) && isObject(response.credentials) ? response.credentials : {};
  const sessionName = str(params.RoleSessionName);
  const stsAccessKeyId = str(credentials.accessKeyId);
  const expiration = str(credentials.expiration);
  return {
    roleArn,
    ...(sessionName ? { sessionName } : {}),
    ...(stsAccessKeyId ? { stsAccessKeyId } : {}),
    ...(expiration ? { expiration } : {}),
  };
}

/**
 * ActionTrail's event history, filtered on the key (F-ACTIONTRAIL-LOOKUP-ACCESSKEY), paced at 2 a second. One
 * LookupEvents covers one region, and global (RAM/IMS) events are recorded in their own region
 * (F-ACTIONTRAIL-GLOBAL-REGION), so the history of each region given is read; an event found in two is kept once.
 */
export function lookupReader(...lookups: PagedLookup[]): TrailReader {
  return {
    source: 'lookup-events',
    async *calls(accessKeyId, from, to, progress) {
      const seen = new Set<string>();
      let found = 0;
      let pages = 0;
      for (const lookup of lookups) {
        for await (const page of lookup.where({ Key: 'EventAccessKeyId', Value: accessKeyId }, from, to)) {
          const calls = ofKey(page.map(callOf), accessKeyId).filter((c) => {
            const repeat = seen.has(c.eventId);
            seen.add(c.eventId);
            return !repeat;
          });
          found += calls.length;
          progress(found, ++pages);
          yield { calls, complete: true };
        }
      }
    },
  };
}

/** Logs per GetLogs page: at most 100 (F-SLS-GETLOGS). */
const QUERY_PAGE = 100;
/** GetLogs pages per second: SLS's query quota is per project and not documented for one caller. */
const QUERIES_PER_SECOND = 5;
/** A page SLS reports as incomplete is asked for again, this many times at most (F-SLS-GETLOGS, F-SLS-GETLOGS-INCOMPLETE-BODY)... */
const INCOMPLETE_RETRIES = 5;
/** ...after 100 ms, then twice as long each time (3.1 s in all): an incomplete answer is a query out of time. */
const INCOMPLETE_DELAY_MS = 100;

/** GetLogs on one logstore: logs from `from` (inclusive) to `to` (exclusive), epoch seconds. */
export type LogQuery = (query: {
  from: number;
  to: number;
  query: string;
  line: number;
  offset: number;
}) => Promise<{ logs: TrailLog[]; complete: boolean }>;

/** GetLogs through `@alicloud/sls20201230` (F-SLS-GETLOGS), on the trail's project and logstore. */
export function slsLogQuery(
  credentials: CloudCredentials,
  endpoint: string,
  project: string,
  logstore: string,
): LogQuery {
  const url = new URL(endpoint);
  const client = sdkClient(
    new $OpenApiUtil.Config({
      accessKeyId: credentials.accessKeyId,
      accessKeySecret: credentials.accessKeySecret,
      ...(credentials.securityToken ? { securityToken: credentials.securityToken } : {}),
      endpoint: url.host,
      protocol: url.protocol.replace(':', ''),
      readTimeout: 30_000,
      connectTimeout: 5_000,
    }),
    isAddressHost(url.host),
  );
  const calls = new CallLog();
  return async (request) =>
    withRetry(async () => {
      try {
        const response = await client.getLogs(project, logstore, new $Sls.GetLogsRequest(request));
        const logs = (response.body ?? []).map(
          (log) => Object.fromEntries(Object.entries(log).map(([k, v]) => [k, String(v)])) as TrailLog,
        );
        return { logs, complete: response.headers?.['x-log-progress'] !== 'Incomplete' };
      } catch (error) {
        const e = (error ?? {}) as { code?: string; statusCode?: number; message?: string };
        calls.record({ service: 'sls', operation: 'GetLogs', ok: false });
        throw new CloudApiError(
          {
            service: 'sls',
            operation: 'GetLogs',
            code: e.code || 'UnknownError',
            ...(e.statusCode === undefined ? {} : { status: e.statusCode }),
            retryable: e.statusCode === undefined || e.statusCode >= 500 || e.statusCode === 429,
            message: (e.message ?? String(error)).split('\n')[0] ?? '',
          },
          { cause: error },
        );
      }
    }, DEFAULT_RETRY);
}

/**
 * The trail's logstore, where data events (object reads and writes) are too (F-ACTIONTRAIL-DATA-EVENTS-SLS-ONLY),
 * queried with the simplest documented search, one `field: value` term on the indexed AccessKey id
 * (F-SLS-TRAIL-ACCESSKEY-FIELD), a page of 100 at a time, paced.
 */
export function logstoreReader(
  query: LogQuery,
  pacer = new CallPacer(QUERIES_PER_SECOND, 1_000),
  sleep: (ms: number) => Promise<void> = defaultSleep,
): TrailReader {
  return {
    source: 'logstore',
    async *calls(accessKeyId, from, to, progress) {
      // The id goes into a search statement: letters and digits only, so it can add no operator to it.
      if (!/^[A-Za-z0-9]+$/.test(accessKeyId)) throw new Error('an AccessKey id is letters and digits only');
      const window = { from: Math.floor(from.getTime() / 1000), to: Math.floor(to.getTime() / 1000) + 1 };
      const search = `event.userIdentity.accessKeyId: ${accessKeyId}`;
      let found = 0;
      for (let offset = 0, pages = 1; ; offset += QUERY_PAGE, pages++) {
        let page: Awaited<ReturnType<LogQuery>> | undefined;
        for (let attempt = 0; attempt <= INCOMPLETE_RETRIES && !page?.complete; attempt++) {
          if (attempt > 0) await sleep(backoff(INCOMPLETE_DELAY_MS, attempt));
          page = await pacer.run(() => query({ ...window, query: search, line: QUERY_PAGE, offset }));
        }
        const logs = page?.logs ?? [];
        // Only records of this key: a search term matches tokens, and SLS may tokenise ids loosely.
        const calls = ofKey(
          logs.map((log, i) => callOf(recordOf(log, offset + i))),
          accessKeyId,
        );
        found += calls.length;
        progress(found, pages);
        yield { calls, complete: page?.complete ?? false };
        if (logs.length < QUERY_PAGE) return;
      }
    },
  };
}

const ofKey = (calls: ReadonlyArray<KeyCall | undefined>, accessKeyId: string): KeyCall[] =>
  calls.filter((c): c is KeyCall => c?.accessKeyId === accessKeyId);

/** A log that is no ActionTrail record (another topic) is skipped, not fatal to the report. */
function recordOf(log: TrailLog, index: number): unknown {
  try {
    return recordFromTrailLog(log, index);
  } catch {
    return undefined;
  }
}
