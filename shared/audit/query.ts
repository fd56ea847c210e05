import { wildcardMatches } from '../wildcard';
import { type AuditRecord, DECISIONS, type DecisionKind } from './record';

/** What `audit list`, `report` and `show` select; every field narrows, none set means everything. */
export interface AuditFilter {
  since?: Date;
  until?: Date;
  /** Globs (`*`, `?`) over `resource.bucket`. */
  buckets?: string[];
  rules?: string[];
  decisions?: DecisionKind[];
  /** Case-insensitive substring of the actor's user name or principal id. */
  actor?: string;
  /** Member accounts (`accountId`): records of other accounts, and records naming none, are left out. */
  accounts?: string[];
}

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
const DURATION = /^(\d+)([smhdw])$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$/;

/**
 * `24h`, `7d`, `2w` (that long before `now`), or an ISO date/time. A bare date is midnight UTC; other
 * strings are refused rather than handed to `Date.parse`, which accepts surprising formats.
 */
export function parseTimeBound(text: string, now: Date = new Date()): Date {
  const trimmed = text.trim();
  const duration = DURATION.exec(trimmed);
  if (duration) {
    const unit = duration[2] as keyof typeof UNIT_MS;
    return new Date(now.getTime() - Number(duration[1]) * UNIT_MS[unit]);
  }
  if (ISO_TIME.test(trimmed)) {
    const parsed = Date.parse(trimmed.length === 10 ? `${trimmed}T00:00:00Z` : trimmed);
    if (!Number.isNaN(parsed)) return new Date(parsed);
  }
  throw new Error(`"${text}" is neither a duration (30m, 24h, 7d, 2w) nor an ISO date/time`);
}

export function parseDecisions(text: string): DecisionKind[] {
  const values = splitList(text);
  const unknown = values.filter((v) => !(DECISIONS as readonly string[]).includes(v));
  if (unknown.length > 0)
    throw new Error(`unknown decision ${unknown.join(', ')} (known: ${DECISIONS.join(', ')})`);
  return values as DecisionKind[];
}

export function splitList(text: string): string[] {
  return text
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v.length > 0);
}

export function matchesFilter(record: AuditRecord, filter: AuditFilter): boolean {
  const time = Date.parse(record.time);
  if (filter.since && !(time >= filter.since.getTime())) return false;
  if (filter.until && !(time <= filter.until.getTime())) return false;
  if (filter.decisions && !filter.decisions.includes(record.decision)) return false;
  if (filter.buckets) {
    const bucket = record.resource?.bucket;
    if (bucket === undefined || !filter.buckets.some((glob) => wildcardMatches(glob, bucket))) return false;
  }
  if (filter.accounts && !(record.accountId !== undefined && filter.accounts.includes(record.accountId)))
    return false;
  if (filter.rules && !record.rules.some((r) => filter.rules?.includes(r.ruleId))) return false;
  if (filter.actor) {
    const needle = filter.actor.toLowerCase();
    const names = [record.actor?.userName, record.actor?.principalId];
    if (!names.some((n) => typeof n === 'string' && n.toLowerCase().includes(needle))) return false;
  }
  return true;
}

const RECORD_KEY = /^(\d{4})\/(\d{2})\/(\d{2})\/[0-9a-f]{40}\.json$/;

/** The `YYYY-MM-DD` partition of a record key written by `auditKey`, or undefined for any other key. */
export function recordKeyDay(prefix: string, key: string): string | undefined {
  if (!key.startsWith(prefix)) return undefined;
  const match = RECORD_KEY.exec(key.slice(prefix.length));
  return match ? `${match[1]}-${match[2]}-${match[3]}` : undefined;
}

/** A decision record written by `auditKey`, not a checkpoint, intent or other object under the prefix. */
export const isRecordKey = (prefix: string, key: string): boolean => recordKeyDay(prefix, key) !== undefined;

/** Above this many prefixes at one granularity, the next coarser one is listed instead. */
const MAX_PARTITIONS = 62;

export interface ListingPlan {
  /** Key prefixes to list; together they cover every record key in range. */
  prefixes: string[];
  /** Whether a listed key is a record whose date partition lies within the range. */
  inRange(key: string): boolean;
}

/**
 * Records are partitioned by the event's UTC day, so a time range maps onto day prefixes; a long range
 * lists months or years instead, and keys are then dropped by their day before anything is fetched.
 */
export function planListing(prefix: string, since?: Date, until?: Date, now: Date = new Date()): ListingPlan {
  const fromDay = since ? utcDay(since) : undefined;
  // Event clocks run a little ahead of ours; a day of slack keeps those records in an open-ended range.
  const toDay = utcDay(until ?? new Date(now.getTime() + UNIT_MS.d));
  const inRange = (key: string): boolean => {
    const day = recordKeyDay(prefix, key);
    return day !== undefined && (fromDay === undefined || day >= fromDay) && day <= toDay;
  };
  if (!fromDay || fromDay > toDay) return { prefixes: fromDay ? [] : [prefix], inRange };
  for (const length of [10, 7, 4]) {
    const parts = partitionsBetween(fromDay, toDay, length);
    if (parts.length <= MAX_PARTITIONS || length === 4)
      return { prefixes: parts.map((p) => `${prefix}${p.replaceAll('-', '/')}/`), inRange };
  }
  return { prefixes: [prefix], inRange };
}

const utcDay = (date: Date): string => date.toISOString().slice(0, 10);

/** Distinct `YYYY-MM-DD` prefixes of `length` characters (10 day, 7 month, 4 year) from one day to another. */
function partitionsBetween(fromDay: string, toDay: string, length: number): string[] {
  const parts: string[] = [];
  const cursor = new Date(`${fromDay}T00:00:00Z`);
  const end = new Date(`${toDay}T00:00:00Z`);
  while (cursor <= end) {
    const part = utcDay(cursor).slice(0, length);
    if (parts.at(-1) !== part) parts.push(part);
    if (length === 10) cursor.setUTCDate(cursor.getUTCDate() + 1);
    else if (length === 7) cursor.setUTCMonth(cursor.getUTCMonth() + 1, 1);
    else cursor.setUTCFullYear(cursor.getUTCFullYear() + 1, 0, 1);
  }
  return parts;
}
