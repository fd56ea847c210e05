import pLimit from 'p-limit';
import { planListing } from '../audit/query';
import { AuditStore } from '../audit/store';
import { CallLog } from '../clients/calllog';
import { isNotFound, type OssClientFactory, OssGateway } from '../clients/oss';
import { describeError } from '../errors';
import type { ChangeRecord, ParsedItem } from '../events/types';
import { aclGuard, SWEEP_OBJECT_EVENT } from '../guards/acl';
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

interface ExposedPrefix {
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
  const prefixes = await exposedPrefixes(deps, now, ofAccount);
  const limit = pLimit(ACL_READS);
  const found: ParsedItem[] = [];
  const failures: InvocationResult['retryableFailures'] = [];
  const counts: ObjectPassCounts = { prefixes: prefixes.length, checked: 0, unfinished: 0 };
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

export interface ObjectPassCounts {
  /** Prefixes the audit log shows exposed in the lookback. */
  prefixes: number;
  /** Object ACLs read. */
  checked: number;
  /** Prefixes the deadline or the per-pass caps left whole or in part: the next run's pass reads them. */
  unfinished: number;
}

async function exposedPrefixes(
  deps: InvocationDeps,
  now: Date,
  ofAccount: (accountId: string | undefined) => boolean,
): Promise<ExposedPrefix[]> {
  const { audit } = deps.runtime.config;
  const store = new AuditStore(
    new OssGateway(deps.oss, audit.region ?? deps.region, new CallLog()),
    audit.bucket,
    audit.prefix,
  );
  const plan = planListing(store.prefix, new Date(now.getTime() - LOOKBACK_DAYS * 86_400_000), now);
  const objects = await store.read(await store.listKeys(plan.prefixes, plan.inRange));
  const byId = new Map<string, ExposedPrefix & { at: number }>();
  for (const { record } of objects) {
    const { bucket, objectKey } = record?.resource ?? {};
    if (!record || !bucket || objectKey === undefined || !ofAccount(record.accountId)) continue;
    if (!record.rules.some((r) => r.ruleId === 'object-acl-public')) continue;
    const prefix = objectKey.slice(0, objectKey.lastIndexOf('/') + 1);
    const id = JSON.stringify([record.region, bucket, prefix]);
    const previous = byId.get(id)?.at ?? 0;
    byId.set(id, {
      region: record.region,
      bucket,
      prefix,
      at: Math.max(Date.parse(record.time) || 0, previous),
    });
  }
  // Newest exposure first: when the caps or the deadline cut the pass short, what was public last is read.
  return [...byId.values()].sort((a, b) => b.at - a.at);
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
