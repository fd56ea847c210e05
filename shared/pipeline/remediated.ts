import { createHash } from 'node:crypto';
import type { LimitFunction } from 'p-limit';
import { CLOCK_SKEW_MS, newestFirstKey, timeOfNewestFirstKey } from '../audit/newest-first';
import {
  type AuditKey,
  canonicalJson,
  macOf,
  type StateSnapshot,
  sealFields,
  sealHoldsEither,
} from '../audit/record';
import type { OssGateway } from '../clients/oss';
import { describeError } from '../errors';
import { resourceIdentity } from '../events/resource-identity';
import type { ChangeRecord } from '../events/types';
import type { Logger } from '../log';
import type { Decision } from './types';

/**
 * The pipeline's own state beside the audit records, not among them (`ossguard audit verify` would report it
 * as unreadable records), in a fixed place the function role's policy names (deploy/role-policy.json).
 */
export const PIPELINE_PREFIX = 'ossguard/pipeline/';

const REMEDIATED_DIR = `${PIPELINE_PREFIX}remediated/`;
const JUDGED_DIR = `${PIPELINE_PREFIX}judged/`;

/**
 * How long a judged mark is kept: it is read only while a repair could still be under way (minutes), so a day
 * leaves room for any clock and any slow repair.
 */
export const JUDGED_KEEP_MS = 24 * 3_600_000;

/**
 * Deletes the judged marks older than JUDGED_KEEP_MS (one object per change judged passing, which would
 * otherwise only grow), and says how many. In a locked audit bucket no object can be deleted before the
 * retention period ends (F-OSS-WORM-SCOPE): the first refused delete stops the run, and a later run deletes
 * them once the period has passed.
 */
export async function pruneJudged(gateway: OssGateway, bucket: string, now: Date): Promise<number> {
  let deleted = 0;
  let next: string | undefined;
  do {
    const page = await gateway.listObjects(bucket, JUDGED_DIR, next);
    for (const { key, lastModified } of page.keys) {
      if (Date.parse(lastModified) >= now.getTime() - JUDGED_KEEP_MS) continue;
      await gateway.deleteObject(bucket, key);
      deleted += 1;
    }
    next = page.next;
  } while (next);
  return deleted;
}

/** The revert that last fixed a resource: what a later change's `skipped` record names as `remediatedBy`. */
export interface RemediationMark {
  eventId: string;
  eventName: string;
  auditKey: string;
  at: string;
  /** The event time of the change the revert was for (absent in marks written before). */
  changedAt?: string;
  /** What a repair that can overwrite a later change wrote (its decision's `after`), to tell later whether it is live. */
  wrote?: StateSnapshot;
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/**
 * One directory per state a guard judges (`resourceIdentity`: the bucket, object, key or policy the change
 * names, in its region and account; RAM user names repeat across an organization's accounts).
 */
function resourceDir(book: MarkBook, change: ChangeRecord, base = REMEDIATED_DIR): string {
  const resource = book.resourceOf?.(change) ?? resourceIdentity(change);
  return `${base}${sha256(JSON.stringify([book.guard, resource])).slice(0, 40)}/`;
}

/**
 * `<dir><inverted ms>-<event hash>-<tag>.json`, so that the newest mark of a resource lists first. The tag is a
 * MAC of the rest of the name under the audit key, as the sweep names its checkpoints
 * (shared/sweep/progress-checkpoint.ts): a name someone without the key planted is passed over from the
 * listing alone, unread, so planted names cannot fill the marks a repair reads.
 */
function markKey(book: MarkBook, dir: string, change: ChangeRecord, at: string): string {
  const name = `${newestFirstKey(dir, Date.parse(at))}-${sha256(change.dedupeKey).slice(0, 12)}`;
  return `${name}${book.key ? `-${nameTag(name, book.key)}` : ''}.json`;
}

const nameTag = (name: string, key: AuditKey): string => macOf({ mark: name }, key).slice(0, 32);

/** Whether a listed key is named as ossguard names marks, under the audit key or the version before it. */
function namedByOssguard(book: MarkBook, key: string): boolean {
  if (!book.key) return true;
  const tagged = /^(.*)-([0-9a-f]{32})\.json$/.exec(key);
  if (!tagged) return false;
  const [, name = '', tag] = tagged;
  return [book.key, book.previousKey].some((k) => k !== undefined && nameTag(name, k) === tag);
}

/** How many of a resource's marks are read, and how many pages of names (F-OSS-LISTV2-MAX-KEYS) looked through. */
const MARKS_READ = 20;
const MARK_PAGES = 5;

/** The keys of the marks to read, and whether more names of the range were left unlisted past the pages. */
interface MarkKeys {
  keys: string[];
  /** Names ossguard did not give filled every page before the range ended: its marks there are unread. */
  crowded: boolean;
}

/**
 * The keys of a resource's newest marks, newest first, dated from `since` to now plus the clock skew: listed
 * from there on (F-OSS-LIST-START-AFTER), since a key dated further ahead, which anyone who can write the
 * audit bucket can compute, lists before every real mark and would hide it. Names ossguard did not give are
 * left out unread, page after page; past MARK_PAGES the range is `crowded`, and the callers say so rather
 * than take the marks they could not reach for none.
 */
async function newestKeys(book: MarkBook, dir: string, since: number): Promise<MarkKeys> {
  const keys: string[] = [];
  let passedOver = 0;
  let token: string | undefined;
  for (let page = 0; page < MARK_PAGES; page++) {
    const startAfter = token ? undefined : newestFirstKey(dir, book.now().getTime() + CLOCK_SKEW_MS);
    const listed = await book.gateway.listObjects(book.bucket, dir, token, 1000, startAfter);
    const recent = listed.keys.map(({ key }) => key).filter((key) => timeOfNewestFirstKey(key, dir) >= since);
    for (const key of recent) {
      if (namedByOssguard(book, key)) keys.push(key);
      else passedOver += 1;
    }
    token = listed.next;
    const done = keys.length >= MARKS_READ || !token || recent.length < listed.keys.length;
    if (done)
      return { keys: keys.slice(0, MARKS_READ), crowded: reportPassedOver(book, dir, passedOver, false) };
  }
  return { keys, crowded: reportPassedOver(book, dir, passedOver, true) };
}

function reportPassedOver(book: MarkBook, dir: string, count: number, crowded: boolean): boolean {
  if (count > 0) book.log.warn('pipeline mark passed over: not named by ossguard', { dir, count, crowded });
  return crowded;
}

/** The mark as written: sealed with the audit key over its fields and its own key (`readMark`). */
const sealedMark = (
  mark: RemediationMark | JudgedMark,
  key: string,
  auditKey: AuditKey | undefined,
): string => JSON.stringify({ ...mark, ...sealFields({ ...mark, key }, auditKey) });

/**
 * The most of a mark read: its largest field is what a repair wrote, a bucket policy of at most 16 KB
 * (F-OSS-POLICY-SIZE), escaped in JSON. A repair reads up to MARKS_READ marks at once: a planted object of the
 * default cap at each would be 20 times that in memory.
 */
const MARK_MAX_BYTES = 64 * 1024;

/**
 * A mark's fields, when ossguard sealed it at this key (a sealed mark copied to another resource's or another
 * time's key does not hold) and dated it no later than now plus the clock skew; otherwise undefined, and logged:
 * a planted, copied or torn object settles nothing.
 */
async function readMark(book: MarkBook, key: string): Promise<Record<string, unknown> | undefined> {
  let value: unknown;
  try {
    value = JSON.parse((await book.gateway.getObject(book.bucket, key, MARK_MAX_BYTES)).toString('utf8'));
  } catch {
    return undefined;
  }
  if (!isSnapshot(value)) return undefined;
  const sealed = sealHoldsEither({ ...value, key }, book.key, book.previousKey);
  if (sealed && Date.parse(String(value.at)) <= book.now().getTime() + CLOCK_SKEW_MS) return value;
  book.log.warn('pipeline mark passed over: not sealed by ossguard, or dated ahead', { key });
  return undefined;
}

/**
 * The newest revert of the change's resource, if ossguard made one. `written` holds the marks this invocation
 * made, by key, listed or not yet: a key is written once, so the newest one being among them needs no GET, and
 * a revert of this invocation counts before its write lands.
 */
async function lastRemediation(
  book: MarkBook,
  change: ChangeRecord,
): Promise<RemediationMark | 'crowded' | undefined> {
  const dir = resourceDir(book, change);
  const since = Date.parse(change.time);
  const listed = await newestKeys(book, dir, since);
  const own = [...book.written.keys()].filter(
    (key) => key.startsWith(dir) && timeOfNewestFirstKey(key, dir) >= since,
  );
  const keys = [...new Set([...own, ...listed.keys])].sort();
  for (const key of keys) {
    const mark = book.written.get(key) ?? remediationMarkOf(await readMark(book, key));
    if (mark) return mark;
  }
  return listed.crowded ? 'crowded' : undefined;
}

/** Why a change is alerted when the marks that would tell whether a repair wrote over it cannot be reached. */
const CROWDED_MARKS =
  "ossguard's marks of this resource could not be read past the names in its folder that ossguard did not give (planted in the audit bucket?)";

function remediationMarkOf(value: Record<string, unknown> | undefined): RemediationMark | undefined {
  const m = value as Partial<RemediationMark> | undefined;
  return m &&
    typeof m.eventId === 'string' &&
    typeof m.eventName === 'string' &&
    typeof m.auditKey === 'string' &&
    typeof m.at === 'string'
    ? {
        eventId: m.eventId,
        eventName: m.eventName,
        auditKey: m.auditKey,
        at: m.at,
        ...(typeof m.changedAt === 'string' ? { changedAt: m.changedAt } : {}),
        ...(isSnapshot(m.wrote) ? { wrote: m.wrote } : {}),
      }
    : undefined;
}

/** Where a guard's marks are written and read, and where a failure to write one is logged. */
export interface MarkBook {
  gateway: OssGateway;
  bucket: string;
  guard: string;
  log: Logger;
  /** The state a change touches, as the guard tells its states apart (`Guard.stateOf`); default: one a resource. */
  resourceOf?: (change: ChangeRecord) => string;
  /** The marks this invocation made, by key, from when their revert was acknowledged (see `lastRemediation`). */
  written: Map<string, RemediationMark>;
  /**
   * Seals the marks written, and decides which read back are ossguard's: whoever can write the audit bucket
   * can compute a resource's mark keys, and a planted mark would mute a repair's "could not be kept" alert.
   */
  key: AuditKey | undefined;
  /** The audit key's version before a rotation: marks it sealed before the rotation still hold. */
  previousKey?: AuditKey | undefined;
  /** What a mark read back must not be dated ahead of, by more than the clock skew. */
  now: () => Date;
}

const isSnapshot = (value: unknown): value is StateSnapshot =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Whether a field the repair wrote reads differently now: a later change replaced the repair's state. */
const replacedSince = (wrote: StateSnapshot, live: StateSnapshot | undefined): boolean =>
  live !== undefined &&
  Object.keys(wrote).some(
    (field) => field in live && canonicalJson(live[field]) !== canonicalJson(wrote[field]),
  );

/**
 * Notes the revert against its resource, so a later change the revert already fixed can say so: at once for
 * this invocation, whose next change of the resource (handled after this one, shared/pipeline/dedupe.ts
 * `inResourceOrder`) must not wait for the write; then in the audit bucket, through `schedule`.
 */
export function noteRemediation(
  book: MarkBook,
  change: ChangeRecord,
  auditKey: string,
  now: Date,
  wrote?: StateSnapshot,
  schedule: (write: () => Promise<void>) => Promise<void> = (write) => write(),
): Promise<void> {
  const mark: RemediationMark = {
    eventId: change.eventId,
    eventName: change.eventName,
    auditKey,
    at: now.toISOString(),
    changedAt: change.time,
    ...(wrote ? { wrote } : {}),
  };
  const key = markKey(book, resourceDir(book, change), change, mark.at);
  book.written.set(key, mark);
  return schedule(() => writeMark(book, change, key, mark));
}

async function writeMark(book: MarkBook, change: ChangeRecord, key: string, mark: RemediationMark) {
  try {
    // Write-once (WORM-safe); the invocation keeps what it made, so that reading it back needs no GET.
    await book.gateway.putObjectIfAbsent(book.bucket, key, sealedMark(mark, key, book.key));
  } catch (error) {
    // Only the tie from a later `skipped` record is lost; the revert and its record stand.
    book.log.warn('remediation mark not written', { eventId: change.eventId, error: describeError(error) });
  }
}

/**
 * A change whose resource passes may pass because ossguard reverted it for another event that came first
 * (a bucket created public, then its ACL set again before the revert): the `skipped` record names that revert.
 * `overwritten` (a change of a whole state a guard's repair writes, such as a bucket policy): the change
 * landed while that repair was under way, after its re-read and before its write, which no read of ossguard's
 * can see (OSS has no conditional write); the repair wrote over a change nobody judged, so it is alerted as
 * one ossguard could not keep. Unless the live state, read again now (`liveSnapshot`), is not what the repair
 * wrote: event times are whole seconds (F-ACTIONTRAIL-RECORD-FIELDS), so a change made just after the repair's write, in the same second,
 * looks no older than the repair, yet stands. (A mark without `wrote`, or a state that cannot be read, alerts;
 * so does a change that set exactly what the repair wrote: no read tells it from one the write overwrote, and
 * skipping would leave an overwritten change of anything else unalerted; test/e2e/policy-repair.test.ts.)
 */
export async function tiedToRemediation(
  book: MarkBook,
  change: ChangeRecord,
  decision: Decision,
  overwritten?: { liveSnapshot: () => Promise<StateSnapshot | undefined> },
): Promise<Decision> {
  const mark = await lastRemediation(book, change);
  if (mark === 'crowded')
    return overwritten
      ? {
          ...decision,
          decision: 'alerted',
          reason: `this ${change.eventName} of ${change.time} may have been written over by a repair of ossguard's: ${CROWDED_MARKS}. Check the live state and make the change again if it is not yours`,
        }
      : decision;
  if (!mark || mark.eventId === change.eventId || Date.parse(mark.at) < Date.parse(change.time))
    return decision;
  const remediatedBy = { eventId: mark.eventId, eventName: mark.eventName, auditKey: mark.auditKey };
  // A change older than the one the repair was for was replaced by that one first, not lost to the repair.
  const older = mark.changedAt !== undefined && Date.parse(change.time) < Date.parse(mark.changedAt);
  if (overwritten && !older) {
    const live = mark.wrote && (await overwritten.liveSnapshot());
    if (mark.wrote && replacedSince(mark.wrote, live)) return decision;
    const state = live
      ? 'the live state is what the repair wrote (event times are whole seconds: a change that set exactly that looks the same)'
      : 'the live state could not be compared with what the repair wrote';
    return {
      ...decision,
      decision: 'alerted',
      reason: `this ${change.eventName} of ${change.time} may have been written over by ossguard's repair for ${mark.eventName} ${mark.eventId} (at ${mark.at}): if so it could not be kept; ${state}. Check it and make the change again`,
      remediatedBy,
    };
  }
  return {
    ...decision,
    reason: `${decision.reason}: ossguard reverted it after this change, for ${mark.eventName} ${mark.eventId}`,
    remediatedBy,
  };
}

/**
 * A change judged passing, noted when it changed the state a guard's repair overwrites
 * (`Guard.overwritesLaterChanges`): the owner's change may have been judged while a repair was between its re-read and its write, before the repair
 * left its mark. Each side writes its own mark, then reads the other's (this one before `tiedToRemediation`,
 * the repair's before `overwrittenDuring`), so at least one of the two sees the other and alerts.
 */
export interface JudgedMark {
  eventId: string;
  eventName: string;
  /** The change's event time. */
  changedAt: string;
  at: string;
}

export async function noteJudged(book: MarkBook, change: ChangeRecord, now: Date): Promise<void> {
  const at = now.toISOString();
  const mark: JudgedMark = {
    eventId: change.eventId,
    eventName: change.eventName,
    changedAt: change.time,
    at,
  };
  const key = markKey(book, resourceDir(book, change, JUDGED_DIR), change, at);
  try {
    await book.gateway.putObjectIfAbsent(book.bucket, key, sealedMark(mark, key, book.key));
  } catch (error) {
    // Only the repair's sight of this change is lost; its own tie to a repair is still read below.
    book.log.warn('judged mark not written', { eventId: change.eventId, error: describeError(error) });
  }
}

/**
 * After a repair that overwrites: a newer change of the resource (by event time) that was judged while the
 * repair was under way may be what the repair then wrote over, if it was one of the events that change what
 * the repair writes (`overwrites`, the guard's `overwritesLaterChanges`). The repair's record says it could
 * not be kept.
 */
export async function overwrittenDuring(
  book: MarkBook,
  change: ChangeRecord,
  decision: Decision,
  at: { started: Date; overwrites: readonly string[] },
): Promise<Decision> {
  // The other delivery of this very change may have been judged too, after the newer change: look past it.
  const dir = resourceDir(book, change, JUDGED_DIR);
  const { keys, crowded } = await newestKeys(book, dir, at.started.getTime() - CLOCK_SKEW_MS);
  const marks = await Promise.all(keys.map((key) => readMark(book, key)));
  const newer = (marks as Array<Partial<JudgedMark> | undefined>).find(
    (m) =>
      typeof m?.eventId === 'string' &&
      typeof m.changedAt === 'string' &&
      typeof m.eventName === 'string' &&
      at.overwrites.includes(m.eventName) &&
      m.eventId !== change.eventId &&
      Date.parse(m.changedAt) >= Date.parse(change.time),
  );
  if (!newer && crowded)
    return {
      ...decision,
      reason: `${decision.reason}; a change judged while this repair was under way may have been written over: ${CROWDED_MARKS}, check the live state`,
    };
  if (!newer) return decision;
  return {
    ...decision,
    reason: `${decision.reason}; the ${newer.eventName ?? 'change'} ${newer.eventId} of ${newer.changedAt}, judged while this repair was under way, changed what the repair then wrote over: it could not be kept, check the live state and make that change again`,
  };
}

/**
 * The remediation marks of one invocation: those it made, by key, and the writes still under way, as many at
 * once as changes are handled, so a burst's reverts do not hold a thousand requests open.
 */
export interface InvocationMarks {
  written: Map<string, RemediationMark>;
  writing: Promise<void>[];
  limit: LimitFunction;
}

/**
 * What a decision leaves in the marks, and what they say of it: a revert is noted against its resource; a
 * change found already fixed is tied to the revert that fixed it, or, under a guard whose repair can overwrite
 * a later change of the state it writes (`overwrites`: the events that change it), alerted when the repair
 * wrote over it.
 */
export async function markDecision(
  book: MarkBook,
  change: ChangeRecord,
  decision: Decision,
  at: {
    recordKey: string;
    started: Date;
    now: () => Date;
    overwrites: readonly string[];
    marks: InvocationMarks;
    /** The live state read again now, as the guard's evaluation describes it (`tiedToRemediation`). */
    liveSnapshot: () => Promise<StateSnapshot | undefined>;
  },
): Promise<Decision> {
  if (decision.decision === 'remediated') {
    // Dated now, when the revert was acknowledged, not when its write gets its turn: a later date would claim
    // the revert came after changes made in between.
    const revertedAt = at.now();
    if (at.overwrites.length === 0) {
      // Not a round trip in this change's path: nothing it decides or records waits for its own mark. A crash
      // before the mark is written loses only what a failed write loses (noteRemediation).
      at.marks.writing.push(
        noteRemediation(book, change, at.recordKey, revertedAt, undefined, at.marks.limit),
      );
      return decision;
    }
    // A repair that can overwrite a later change writes its mark before it reads the judged marks, and a judged
    // change the other way round, so that one of the two always sees the other.
    await noteRemediation(book, change, at.recordKey, revertedAt, decision.after);
    return overwrittenDuring(book, change, decision, at);
  }
  if (decision.decision !== 'skipped') return decision;
  // Only a change of the state the repair writes can be lost to it: a tagging call leaves no judged mark.
  const overwritable = at.overwrites.includes(change.eventName);
  if (overwritable) await noteJudged(book, change, at.now());
  return tiedToRemediation(book, change, decision, overwritable ? at : undefined);
}
