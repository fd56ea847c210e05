import { createHash } from 'node:crypto';
import type { EmittedRecord } from '../../shared/events/actiontrail-event';
import { invalidParameter } from '../acs/errors';

/**
 * LookupEvents 2020-07-06 over the records the local bus has seen (F-ACTIONTRAIL-LOOKUP-API).
 */
type Params = Readonly<Record<string, string>>;

const str = (value: unknown): string[] => (typeof value === 'string' && value ? [value] : []);

/** What each LookupAttribute key matches in a record; keys and values are exact and case-sensitive. */
const ATTRIBUTES: Readonly<Record<string, (record: EmittedRecord) => readonly string[]>> = {
  EventName: (r) => [r.eventName],
  ServiceName: (r) => [r.serviceName],
  EventId: (r) => [r.eventId],
  EventRW: (r) => [r.eventRW],
  EventType: (r) => [r.eventType],
  User: (r) => str(r.userIdentity.userName),
  PrincipalId: (r) => str(r.userIdentity.principalId),
  EventAccessKeyId: (r) => str(r.userIdentity.accessKeyId),
  // An assumed role's userName is `RoleName:RoleSessionName` (F-ACTIONTRAIL-USER-IDENTITY).
  RoleName: (r) =>
    r.userIdentity.type === 'assumed-role'
      ? str(r.userIdentity.userName).map((n) => n.split(':')[0] ?? n)
      : [],
  ResourceType: (r) => Object.keys(r.referencedResources),
  ResourceName: (r) => Object.values(r.referencedResources).flat(),
};

/**
 * The pairs two conditions may form, as a public copy of the limits page (help.aliyun.com/document_detail/
 * 2920829.html, not retrieved) lists them: UNVERIFIED. `SensitiveAction` is left out, as the emulated records
 * carry no eventAttributes.
 */
const ALLOWED_PAIRS = new Set([
  'ServiceName+EventName',
  'ServiceName+User',
  'ServiceName+PrincipalId',
  'ServiceName+RoleName',
  'ServiceName+ResourceName',
  'ServiceName+EventRW',
  'ServiceName+EventType',
  'ResourceName+ResourceType',
  'ResourceName+EventName',
  'ResourceName+User',
  'ResourceName+RoleName',
  'EventType+EventName',
]);

const MAX_ATTRIBUTES = 2;
const MAX_RESULTS = 50;
/** UNVERIFIED: the SDK documents 1-50 and shows 20 as the example, not the default. */
const DEFAULT_RESULTS = 20;
const DEFAULT_SPAN_MS = 7 * 24 * 3600_000;
const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

const isoSeconds = (date: Date): string => date.toISOString().replace(/\.\d{3}Z$/, 'Z');

function attributesOf(params: Params): Array<[string, string]> {
  const attributes: Array<[string, string]> = [];
  for (let n = 1; params[`LookupAttribute.${n}.Key`] !== undefined; n++) {
    const key = params[`LookupAttribute.${n}.Key`] ?? '';
    if (!Object.hasOwn(ATTRIBUTES, key))
      throw invalidParameter(`LookupAttribute.${n}.Key`, `unsupported key ${key}`);
    attributes.push([key, params[`LookupAttribute.${n}.Value`] ?? '']);
  }
  if (attributes.length > MAX_ATTRIBUTES)
    throw invalidParameter('LookupAttribute', `at most ${MAX_ATTRIBUTES}`);
  const [first, second] = attributes.map(([key]) => key);
  if (
    first &&
    second &&
    !ALLOWED_PAIRS.has(`${first}+${second}`) &&
    !ALLOWED_PAIRS.has(`${second}+${first}`)
  ) {
    throw invalidParameter('LookupAttribute', `${first} cannot be combined with ${second}`);
  }
  return attributes;
}

function timeParam(params: Params, name: 'StartTime' | 'EndTime'): Date | undefined {
  const value = params[name];
  if (!value) return undefined;
  if (!TIME.test(value)) throw invalidParameter(name, 'expected yyyy-MM-ddTHH:mm:ssZ');
  return new Date(value);
}

function maxResultsOf(params: Params): number {
  if (!params.MaxResults) return DEFAULT_RESULTS;
  const max = Number(params.MaxResults);
  if (!Number.isInteger(max) || max < 1 || max > MAX_RESULTS) {
    throw invalidParameter('MaxResults', `expected 1 to ${MAX_RESULTS}`);
  }
  return max;
}

/**
 * The opaque NextToken: the query it continues (which must not change between pages), the time window of its
 * first page, and the last event returned. Positioning on an event, not an offset, keeps pages stable while
 * new events arrive.
 */
interface Cursor {
  query: string;
  start: string;
  end: string;
  after: string;
}

const encodeCursor = (cursor: Cursor): string => Buffer.from(JSON.stringify(cursor)).toString('base64url');

function decodeCursor(token: string, query: string): Cursor {
  let cursor: Partial<Cursor> = {};
  try {
    cursor = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Partial<Cursor>;
  } catch {
    // Falls through to the check below.
  }
  if (cursor.query !== query || !cursor.start || !cursor.end || !cursor.after) {
    throw invalidParameter('NextToken', 'not a token of this query; repeat the parameters of the first call');
  }
  return cursor as Cursor;
}

export interface LookupPage {
  StartTime: string;
  EndTime: string;
  NextToken: string;
  Events: EmittedRecord[];
}

export function lookupEvents(records: readonly EmittedRecord[], params: Params, now: Date): LookupPage {
  const attributes = attributesOf(params);
  const direction = params.Direction || 'BACKWARD';
  if (direction !== 'FORWARD' && direction !== 'BACKWARD') {
    throw invalidParameter('Direction', 'expected FORWARD or BACKWARD');
  }
  const maxResults = maxResultsOf(params);
  const startParam = timeParam(params, 'StartTime');
  const endParam = timeParam(params, 'EndTime');
  if (!startParam !== !endParam) throw invalidParameter('StartTime', 'give StartTime and EndTime together');

  const query = createHash('sha256')
    .update(JSON.stringify([params.StartTime ?? '', params.EndTime ?? '', direction, attributes]))
    .digest('hex');
  const cursor = params.NextToken ? decodeCursor(params.NextToken, query) : undefined;
  const end = cursor ? new Date(cursor.end) : (endParam ?? now);
  const start = cursor ? new Date(cursor.start) : (startParam ?? new Date(now.getTime() - DEFAULT_SPAN_MS));
  if (start > end) throw invalidParameter('StartTime', 'must not be after EndTime');

  // Ties on the second-precision eventTime keep emission order.
  const matching = records
    .map((record, index) => ({ record, index, time: Date.parse(record.eventTime) }))
    .filter(
      ({ record, time }) => time >= start.getTime() && time <= end.getTime() && matches(record, attributes),
    )
    .sort((a, b) => a.time - b.time || a.index - b.index)
    .map(({ record }) => record);
  if (direction === 'BACKWARD') matching.reverse();

  let from = 0;
  if (cursor) {
    from = matching.findIndex((r) => r.eventId === cursor.after) + 1;
    if (from === 0) throw invalidParameter('NextToken', 'the event it continues from is gone');
  }
  const page = matching.slice(from, from + maxResults);
  const last = page.at(-1);
  const more = last !== undefined && from + page.length < matching.length;
  return {
    StartTime: isoSeconds(start),
    EndTime: isoSeconds(end),
    NextToken: more
      ? encodeCursor({ query, start: start.toISOString(), end: end.toISOString(), after: last.eventId })
      : '',
    Events: page,
  };
}

const matches = (record: EmittedRecord, attributes: ReadonlyArray<[string, string]>): boolean =>
  attributes.every(([key, value]) => ATTRIBUTES[key]?.(record).includes(value) ?? false);
