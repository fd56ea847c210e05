import pLimit from 'p-limit';
import { planListing } from '../audit/query';
import { type AuditRecord, isTrustedRecordEither } from '../audit/record';
import { parseStored } from '../audit/store';
import { CallLog } from '../clients/calllog';
import { isNotFound, type OssClientFactory, OssGateway } from '../clients/oss';
import { describeError } from '../errors';
import type { ChangeRecord, ParsedItem } from '../events/types';
import { aclGuard, SWEEP_OBJECT_EVENT } from '../guards/acl';
import { type LedgerAudit, ledgerAuditOf } from '../pipeline/resolve';
import { type InvocationDeps, type InvocationResult, runGuard } from '../pipeline/run';

/** How far back the object pass reads the audit log for objects once found public. */
const LOOKBACK_DAYS = 7;
/** Objects listed per exposed prefix at most, so one large prefix cannot take the whole run. */
const MAX_OBJECTS_PER_PREFIX = 1_000;
/**
 * Exposed prefixes one pass reads at most, newest exposure first. Whoever can make objects public can fill the
 * audit log with exposed prefixes; each costs a listing, and the pass runs in every account's sweep, so an
 * account's pass must stay a fraction of the run whatever its log holds. What is left is counted `unfinished`.
 */
const MAX_PREFIXES_PER_PASS = 100;
/**
 * Object ACLs one pass reads at most: 5,000 reads at `ACL_READS` at once and about 10 ms a round trip are some
 * 3 s (BENCHMARKS.md's OSS round trip), small beside the sweeper's run, so the members after it still get theirs.
 */
const MAX_OBJECTS_PER_PASS = 5_000;
const ACL_READS = 16;
/**
 * Audit records one pass reads at most, newest day first: every account's pass reads the whole log for its
 * own records, so 10,000 at `RECORD_READS` at once and about 10 ms a round trip are some 6 s a pass
 * (BENCHMARKS.md's OSS round trip), however many records, real or planted, the week holds.
 */
const MAX_RECORDS_PER_PASS = 10_000;
const RECORD_READS = 16;

export interface ExposedPrefix {
  region: string;
  bucket: string;
  prefix: string;
}

/**
 * The sweep's object pass. Bucket ACLs and policies are read for every bucket; objects are too many for
 * that, so the pass reads those under the prefixes (the key up to its last `/`) where the audit log shows an
 * object was public in the last week: where one was made public, others often were too, and a change that
 * slipped past the cap, a lost range or a missed event is found here. Each public object goes through the
 * ACL guard like an event.
 *
 * One pass per account: only the records of that account are read (they all go to the deploying account's
 * audit log), a member's objects are listed with its member role's session (`member`), and its changes name
 * it, so that the pipeline acts on them there and records both accounts.
 *
 * No listing or read starts after `deadline` (epoch ms), nor past the per-pass caps: the prefixes and objects
 * left are counted `unfinished`, and the next run's pass reads them again.
 */
export async function sweepExposedObjects(
  deps: InvocationDeps,
  runId: string,
  accountId: string,
  now: Date,
  deadline: number,
  member?: OssClientFactory,
): Promise<InvocationResult & ObjectPassCounts> {
  // A record names its account when the event did (F-ORG-TRAIL-RECIPIENT); one that does not is the
  // deploying account's, as is every record when FC did not say which account the function runs in.
  const ofAccount = (id: string | undefined): boolean =>
    member ? id === accountId : id === undefined || id === accountId || accountId === '';
  const clock = deps.now ?? (() => new Date());
  const late = (): boolean => clock().getTime() >= deadline;
  const { audit } = deps.runtime.config;
  const records = ledgerAuditOf(
    deps.runtime,
    new OssGateway(deps.oss, audit.region ?? deps.region, new CallLog()),
  );
  const exposed = await exposedPrefixes(records, { now, deadline, clock }, ofAccount);
  const { prefixes } = exposed;
  const limit = pLimit(ACL_READS);
  const found: ParsedItem[] = [];
  const failures: InvocationResult['retryableFailures'] = [];
  const counts: ObjectPassCounts = {
    prefixes: prefixes.length,
    checked: 0,
    unfinished: 0,
    ...exposed.counts,
  };
  let read = 0;
  for (const [index, p] of prefixes.entries()) {
    if (index >= MAX_PREFIXES_PER_PASS || read >= MAX_OBJECTS_PER_PASS || late()) {
      counts.unfinished += prefixes.length - index;
      break;
    }
    const oss = new OssGateway(member ?? deps.oss, p.region, new CallLog());
    let keys: string[];
    try {
      keys = (await oss.listObjects(p.bucket, p.prefix, undefined, MAX_OBJECTS_PER_PREFIX)).keys.map(
        (k) => k.key,
      );
    } catch (error) {
      if (!isNotFound(error))
        failures.push({ eventId: `${p.bucket}/${p.prefix}`, error: describeError(error) });
      continue;
    }
    const taken = keys.slice(0, MAX_OBJECTS_PER_PASS - read);
    read += taken.length;
    // A prefix the cap or the deadline cuts short counts as left: its rest is read by the next pass.
    let cut = taken.length < keys.length;
    await Promise.all(
      taken.map((key) =>
        limit(async () => {
          if (late()) {
            cut = true;
            return;
          }
          counts.checked += 1;
          try {
            const acl = await oss.getObjectAcl(p.bucket, key);
            if (acl !== 'public-read' && acl !== 'public-read-write') return;
            found.push({
              kind: 'change',
              index: found.length,
              record: objectChange(runId, p, key, accountId, now),
            });
          } catch (error) {
            if (!isNotFound(error))
              failures.push({ eventId: `${p.bucket}/${key}`, error: describeError(error) });
          }
        }),
      ),
    );
    if (cut) counts.unfinished += 1;
  }
  for (const f of failures) deps.log.warn('object pass could not read', f);
  if (counts.unfinished > 0)
    deps.log.warn('the object pass stopped short; the next run reads the rest', { accountId, ...counts });
  // The next run reads newest first again: while the records outgrow the cap, the oldest name no prefix.
  if (counts.recordsUnread > 0 || counts.daysUnlisted > 0)
    deps.log.warn('the object pass read the audit log short of its lookback; what it left names no prefix', {
      accountId,
      ...exposed.counts,
    });
  const judged =
    found.length > 0
      ? await runGuard(aclGuard, found, { ...deps, invocationId: `${deps.invocationId}/objects` })
      : { decisions: [], retryableFailures: [] };
  return {
    decisions: judged.decisions,
    retryableFailures: [...failures, ...judged.retryableFailures],
    ...counts,
  };
}

export interface ObjectPassCounts extends AuditReadCounts {
  /** Prefixes the audit log shows exposed in the lookback. */
  prefixes: number;
  /** Object ACLs read. */
  checked: number;
  /** Prefixes the deadline or the per-pass caps left whole or in part: the next run's pass reads them. */
  unfinished: number;
}

/** How many audit records each object pass reads in all, and which of them it could believe. */
export interface AuditReadCounts {
  /** Audit records of the lookback read, newest day first. */
  records: number;
  /** Of those, objects the audit key does not verify (planted, altered, or no record): they name no prefix. */
  untrusted: number;
  /** Records listed that the deadline or `MAX_RECORDS_PER_PASS` left unread: they name no prefix this run. */
  recordsUnread: number;
  /** Days of the lookback the deadline or the cap left unlisted, in whole or in part (uncounted records). */
  daysUnlisted: number;
}

/**
 * The prefixes where the last week's audit records show an object was public, newest exposure first, from the
 * records the audit key verifies only (as openLedger believes a record, shared/pipeline/resolve.ts): whoever
 * can write the audit bucket could otherwise file exposures dated ahead, which would push the real ones out
 * of the pass's prefix cap. Read newest day first (within a day keys list by hash, not time), none started
 * after `deadline` nor past `maxRecords`: a flood of records, planted or real, cannot take the run, and what
 * is left is counted.
 */
export async function exposedPrefixes(
  audit: LedgerAudit,
  window: { now: Date; deadline: number; clock: () => Date; maxRecords?: number },
  ofAccount: (accountId: string | undefined) => boolean,
): Promise<{ prefixes: ExposedPrefix[]; counts: AuditReadCounts }> {
  const { now, deadline, clock, maxRecords = MAX_RECORDS_PER_PASS } = window;
  const counts: AuditReadCounts = { records: 0, untrusted: 0, recordsUnread: 0, daysUnlisted: 0 };
  const spent = (): boolean => counts.records >= maxRecords || clock().getTime() >= deadline;
  const plan = planListing(audit.prefix, new Date(now.getTime() - LOOKBACK_DAYS * 86_400_000), now);
  // planListing's day prefixes come oldest first.
  const days = [...plan.prefixes].reverse();
  const limit = pLimit(RECORD_READS);
  const byId = new Map<string, ExposedPrefix & { at: number }>();
  const note = (record: AuditRecord): void => {
    const { bucket, objectKey } = record.resource ?? {};
    if (!bucket || objectKey === undefined || !ofAccount(record.accountId)) return;
    if (!record.rules.some((r) => r.ruleId === 'object-acl-public')) return;
    const prefix = objectKey.slice(0, objectKey.lastIndexOf('/') + 1);
    const id = JSON.stringify([record.region, bucket, prefix]);
    const previous = byId.get(id)?.at ?? 0;
    byId.set(id, {
      region: record.region,
      bucket,
      prefix,
      at: Math.max(Date.parse(record.time) || 0, previous),
    });
  };
  const read = async (key: string): Promise<void> => {
    if (spent()) {
      counts.recordsUnread += 1;
      return;
    }
    counts.records += 1;
    const body = await audit.gateway.getObjectWithin(audit.bucket, key);
    const { record } = body ? parseStored(key, body) : {};
    if (record && isTrustedRecordEither(record, audit.key, audit.previousKey)) note(record);
    else counts.untrusted += 1;
  };
  /** Reads the day's records a page at a time (F-OSS-LISTV2-MAX-KEYS); false when the deadline or the cap came first. */
  const readDay = async (day: string): Promise<boolean> => {
    let token: string | undefined;
    do {
      if (spent()) return false;
      const page = await audit.gateway.listObjects(audit.bucket, day, token);
      const keys = page.keys.map((k) => k.key).filter(plan.inRange);
      await Promise.all(keys.map((key) => limit(() => read(key))));
      token = page.next;
    } while (token);
    return true;
  };
  for (const [index, day] of days.entries()) {
    if (await readDay(day)) continue;
    counts.daysUnlisted = days.length - index;
    break;
  }
  // Newest exposure first: when the caps or the deadline cut the pass short, what was public last is read.
  return { prefixes: [...byId.values()].sort((a, b) => b.at - a.at), counts };
}

/** A public object the pass found: no API call stands behind it, only the object to re-read. */
function objectChange(
  runId: string,
  p: ExposedPrefix,
  key: string,
  accountId: string,
  time: Date,
): ChangeRecord {
  const eventId = `sweep-${runId}-object-${p.region}-${p.bucket}-${key}`;
  return {
    dedupeKey: eventId,
    eventId,
    eventName: SWEEP_OBJECT_EVENT,
    eventType: SWEEP_OBJECT_EVENT,
    service: 'Oss',
    region: p.region,
    ...(accountId ? { accountId } : {}),
    time: time.toISOString(),
    actor: { type: 'system', userName: 'oss-sweeper' },
    resources: { bucket: p.bucket, objectKey: key },
    requestParameters: {},
    origin: 'sweep',
  };
}
