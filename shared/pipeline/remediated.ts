import { createHash } from 'node:crypto';
import type { OssGateway } from '../clients/oss';
import { describeError } from '../errors';
import type { ChangeRecord } from '../events/types';
import type { Logger } from '../log';
import type { Decision } from './types';

/**
 * The pipeline's own state beside the audit records, not among them (`ossguard audit verify` would report it
 * as unreadable records), in a fixed place the function role's policy names (deploy/role-policy.json).
 */
export const PIPELINE_PREFIX = 'ossguard/pipeline/';

const REMEDIATED_DIR = `${PIPELINE_PREFIX}remediated/`;

/** Larger than any epoch millisecond until the year 2286, so inverted times keep 13 digits and sort newest first. */
const TIME_CEILING = 9_999_999_999_999;

/** The revert that last fixed a resource: what a later change's `skipped` record names as `remediatedBy`. */
export interface RemediationMark {
  eventId: string;
  eventName: string;
  auditKey: string;
  at: string;
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** One directory per resource a guard judges: the bucket, object or key the change names, in its region. */
function resourceDir(guard: string, change: ChangeRecord): string {
  const { bucket, objectKey, ramUser, accessKeyId } = change.resources;
  const id = JSON.stringify([
    guard,
    change.region,
    bucket ?? '',
    objectKey ?? '',
    ramUser ?? '',
    accessKeyId ?? '',
  ]);
  return `${REMEDIATED_DIR}${sha256(id).slice(0, 40)}/`;
}

/**
 * Notes a revert against its resource, write-once (WORM-safe): `<dir><inverted ms>-<event hash>.json`.
 * Returns the key when this call created it, so the invocation knows that object's content without a GET.
 */
export async function markRemediated(
  audit: { gateway: OssGateway; bucket: string },
  guard: string,
  change: ChangeRecord,
  mark: RemediationMark,
): Promise<string | undefined> {
  const inverted = String(TIME_CEILING - Date.parse(mark.at)).padStart(13, '0');
  const key = `${resourceDir(guard, change)}${inverted}-${sha256(change.dedupeKey).slice(0, 12)}.json`;
  const put = await audit.gateway.putObjectIfAbsent(audit.bucket, key, JSON.stringify(mark));
  return put === 'created' ? key : undefined;
}

/**
 * The newest revert of the change's resource, if ossguard made one. `written` holds the marks this invocation
 * created, by key: a key is written once, so the newest one being among them needs no GET.
 */
export async function lastRemediation(
  audit: { gateway: OssGateway; bucket: string },
  guard: string,
  change: ChangeRecord,
  written: ReadonlyMap<string, RemediationMark>,
): Promise<RemediationMark | undefined> {
  const [newest] = (await audit.gateway.listObjects(audit.bucket, resourceDir(guard, change), undefined, 1))
    .keys;
  if (!newest) return undefined;
  const known = written.get(newest.key);
  if (known) return known;
  let value: unknown;
  try {
    value = JSON.parse((await audit.gateway.getObject(audit.bucket, newest.key)).toString('utf8'));
  } catch {
    return undefined;
  }
  const m = value as Partial<RemediationMark> | null;
  return m &&
    typeof m.eventId === 'string' &&
    typeof m.eventName === 'string' &&
    typeof m.auditKey === 'string' &&
    typeof m.at === 'string'
    ? { eventId: m.eventId, eventName: m.eventName, auditKey: m.auditKey, at: m.at }
    : undefined;
}

/** Where a guard's marks are written and read, and where a failure to write one is logged. */
export interface MarkBook {
  gateway: OssGateway;
  bucket: string;
  guard: string;
  log: Logger;
  /** The marks this invocation created, by key (see `lastRemediation`). */
  written: Map<string, RemediationMark>;
}

/** Notes the revert against its resource, so a later change the revert already fixed can say so. */
export async function noteRemediation(
  book: MarkBook,
  change: ChangeRecord,
  auditKey: string,
  now: Date,
): Promise<void> {
  const mark = { eventId: change.eventId, eventName: change.eventName, auditKey, at: now.toISOString() };
  try {
    const key = await markRemediated(book, book.guard, change, mark);
    if (key) book.written.set(key, mark);
  } catch (error) {
    // Only the tie from a later `skipped` record is lost; the revert and its record stand.
    book.log.warn('remediation mark not written', { eventId: change.eventId, error: describeError(error) });
  }
}

/**
 * A change whose resource passes may pass because ossguard reverted it for another event that came first
 * (a bucket created public, then its ACL set again before the revert): the `skipped` record names that revert.
 */
export async function tiedToRemediation(
  book: MarkBook,
  change: ChangeRecord,
  decision: Decision,
): Promise<Decision> {
  const mark = await lastRemediation(book, book.guard, change, book.written);
  if (!mark || mark.eventId === change.eventId || Date.parse(mark.at) < Date.parse(change.time))
    return decision;
  return {
    ...decision,
    reason: `${decision.reason}: ossguard reverted it after this change, for ${mark.eventName} ${mark.eventId}`,
    remediatedBy: { eventId: mark.eventId, eventName: mark.eventName, auditKey: mark.auditKey },
  };
}
