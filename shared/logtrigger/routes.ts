import pLimit from 'p-limit';
import { CallLog } from '../clients/calllog';
import { isNotFound, OssGateway } from '../clients/oss';
import type { Runtime } from '../config/load';
import { CloudApiError, describeError } from '../errors';
import { keepableRecord, parseEvents } from '../events/parse-actiontrail-events';
import type { TrailRoute } from '../events/trail-log';
import type { ChangeRecord, ParsedItem } from '../events/types';
import { aclGuard } from '../guards/acl';
import { identityPolicyGuard } from '../guards/identity-policy';
import { keyUsageGuard, keyUsesToJudge } from '../guards/key-usage';
import { keyGuard } from '../guards/keys';
import { policyGuard } from '../guards/policy';
import { roleTrustGuard } from '../guards/role-trust';
import { userTagGuard } from '../guards/user-tags';
import { createLogger, type Logger } from '../log';
import { placeChange } from '../pipeline/accounts';
import { deferWork, markTaken, pendingWork } from '../pipeline/deferred';
import type { FcContext } from '../pipeline/handler';
import { type InvocationDeps, type InvocationResult, isOwnRole, runGuard } from '../pipeline/run';

/**
 * The trail's records, sorted to the guards that judge them: a log range's (trail-guard), or those an earlier
 * invocation handed on to the deferred-work queue (shared/pipeline/deferred.ts), drained by trail-guard and
 * by the sweep's timer alike.
 */

/** GetObjectAcl calls in flight at once while re-checking a range's object writes. */
const RECHECK_CONCURRENCY = 16;

type GuardRoute = Exclude<TrailRoute, 'object-acl-recheck'>;

type Judge = (items: ParsedItem[], deps: InvocationDeps) => Promise<InvocationResult>;

// Every record a route holds is one its guard handles (`routeOf` routes by the same event names).
const JUDGES: Record<GuardRoute, Judge> = {
  'oss-acl-guard': (items, deps) => runGuard(aclGuard, items, deps),
  'oss-policy-guard': (items, deps) => runGuard(policyGuard, items, deps),
  'access-key-guard': (items, deps) => runGuard(keyGuard, items, deps),
  'identity-policy-guard': (items, deps) => runGuard(identityPolicyGuard, items, deps),
  'user-tag-guard': (items, deps) => runGuard(userTagGuard, items, deps),
  'role-trust-guard': (items, deps) => runGuard(roleTrustGuard, items, deps),
  'key-usage-guard': (items, deps) =>
    runGuard(keyUsageGuard, keyUsesToJudge(items, deps.runtime.config, deps.now?.() ?? new Date()), deps),
};

export interface RouteEnv {
  deps: InvocationDeps;
  context: FcContext;
  runtime: Runtime;
  log: Logger;
  queue: Parameters<typeof deferWork>[0];
}

export interface Judged {
  result: InvocationResult;
  rechecked: number;
  recheckedPublic: number;
  /** Records handed on to the deferred-work queue (shared/pipeline/deferred.ts) instead of failing the range. */
  deferred: number;
}

/**
 * Routed records through their guards: the ACL changes first, so that an object they revert then reads back
 * private in the re-check and one exposure is handled once; and every upload is re-checked whatever else the
 * records say of its object (a failed or already handled PutObjectAcl, or ossguard's own revert, says
 * nothing of what the upload set). Each record is parsed once, for the re-check and its guard alike.
 */
export async function judgeRoutes(
  { deps, context, runtime, log }: RouteEnv,
  routes: ReadonlyMap<TrailRoute, unknown[]> | ReadonlyMap<string, unknown[]>,
  from: string,
  followUp = false,
): Promise<Judged> {
  const parsed = (route: TrailRoute): ParsedItem[] => {
    const records = (routes as ReadonlyMap<string, unknown[]>).get(route) ?? [];
    return records.length > 0 ? parseEvents(records) : [];
  };
  const result: InvocationResult = { decisions: [], retryableFailures: [] };
  const judge = async (route: GuardRoute, items: ParsedItem[], step: string = route): Promise<void> => {
    if (items.length === 0) return;
    // The other routes still run: one guard's cloud faults must not hold back another's changes.
    const part = await JUDGES[route](items, {
      ...deps,
      log: createLogger({ guard: route, requestId: context.requestId }),
      invocationId: `${from}/${step}`,
      route: `trail-guard/${step}`,
      ...(followUp ? { followUp } : {}),
    });
    result.decisions.push(...part.decisions);
    result.retryableFailures.push(...part.retryableFailures);
  };
  await judge('oss-acl-guard', parsed('oss-acl-guard'));
  const writes = parsed('object-acl-recheck');
  const recheck = runtime.config.trail.recheckObjectWrites
    ? await publicObjectWrites(writes, deps, context.region, log)
    : { public: [], failed: [] };
  result.retryableFailures.push(...recheck.failed);
  await judge('oss-acl-guard', recheck.public, 'object-acl-recheck');
  await judge('oss-policy-guard', parsed('oss-policy-guard'));
  await judge('access-key-guard', parsed('access-key-guard'));
  await judge('identity-policy-guard', parsed('identity-policy-guard'));
  await judge('user-tag-guard', parsed('user-tag-guard'));
  await judge('role-trust-guard', parsed('role-trust-guard'));
  await judge('key-usage-guard', parsed('key-usage-guard'));
  return { result, rechecked: writes.length, recheckedPublic: recheck.public.length, deferred: 0 };
}

/**
 * The records whose changes could not be finished (cloud faults past the pipeline's retries) are handed on to
 * the deferred-work queue, and the range succeeds: retried by SLS until `maxRetryTime` it would then be skipped
 * for good. Only if the queue cannot be written either does the invocation fail, so the range is retried.
 */
export async function handOnFailures(
  env: RouteEnv,
  routes: ReadonlyMap<string, unknown[]>,
  from: string,
  judged: Judged,
  attempt = 1,
): Promise<Judged> {
  // A change another delivery is under way on is not handed on: the range fails and SLS retries it, which
  // then finds that delivery's record, as before the queue existed.
  const failures = judged.result.retryableFailures.filter((f) => !f.held);
  if (failures.length === 0) return judged;
  const unfinished = new Set(failures.map((f) => f.eventId));
  // Changes the cap held back met no fault: the next drain may take them at once.
  return handOn(
    env,
    routes,
    { from, attempt: failures.every((f) => f.capped) ? 0 : attempt },
    `cloud faults: ${failures[0]?.error ?? ''}`,
    judged,
    (record) => unfinished.has(String((record as { eventId?: unknown } | null)?.eventId)),
  );
}

export async function handOn(
  { queue, log }: RouteEnv,
  routes: ReadonlyMap<string, unknown[]>,
  { from, attempt }: { from: string; attempt: number },
  reason: string,
  judged: Judged | undefined,
  keep: (record: unknown) => boolean = () => true,
): Promise<Judged> {
  const base = judged ?? {
    result: { decisions: [], retryableFailures: [] },
    rechecked: 0,
    recheckedPublic: 0,
    deferred: 0,
  };
  const kept = Object.fromEntries(
    [...routes].map(([route, records]) => [route, records.filter(keep).map(keepableRecord)]),
  );
  const count = Object.values(kept).reduce((n, records) => n + records.length, 0);
  if (count === 0) return base;
  try {
    const keys = await deferWork(queue, {
      from,
      reason,
      deferredAt: new Date().toISOString(),
      attempt,
      routes: kept,
    });
    log.warn('unfinished changes handed on to the deferred-work queue', {
      from,
      keys: keys.join(','),
      records: count,
      reason,
    });
    const held = base.result.retryableFailures.filter((f) => f.held);
    return { ...base, result: { ...base.result, retryableFailures: held }, deferred: count };
  } catch (error) {
    log.error('deferred-work queue not written; failing the invocation so the range is retried', {
      from,
      error: describeError(error),
    });
    const failure = { eventId: from, error: `deferred-work queue: ${describeError(error)}` };
    return {
      ...base,
      result: { ...base.result, retryableFailures: [...base.result.retryableFailures, failure] },
    };
  }
}

/**
 * Judges what earlier invocations handed on, oldest first; what still cannot be finished is handed on again.
 * No item is started once `deadline` has passed, bar the first: an item holds at most `ITEM_RECORDS` records
 * (shared/pipeline/deferred.ts), so one fits in what the caller keeps back from its timeout, and every drain
 * gets on. What is left stays queued for the next run.
 */
export async function drainDeferred(env: RouteEnv, deadline: number): Promise<number> {
  let drained = 0;
  try {
    for await (const { key, work } of pendingWork(env.queue, new Date(), env.log)) {
      if (drained > 0 && Date.now() >= deadline) break;
      const routes = new Map(Object.entries(work.routes));
      const judged = await handOnFailures(
        env,
        routes,
        key,
        await judgeRoutes(env, routes, key, true),
        work.attempt + 1,
      );
      // Taken only once what failed again is queued anew; otherwise the item stays for the next invocation.
      if (judged.result.retryableFailures.length === 0) await markTaken(env.queue, key, new Date());
      drained += 1;
    }
  } catch (error) {
    env.log.warn('deferred-work queue not read or not marked; the next invocation tries again', {
      error: describeError(error),
    });
  }
  return drained;
}

const objectId = (region: string, bucket: string, key: string): string => `${region}/${bucket}/${key}`;

/** An object write whose record shows no ACL: the object may have been uploaded public. */
interface PossibleExposure {
  change: ParsedItem;
  record: ChangeRecord;
  eventId: string;
  bucket: string;
  key: string;
  region: string;
}

/**
 * Of the object writes whose record shows no ACL, those whose object is public now: each distinct object is
 * read once (GetObjectAcl), with the clients of its account (a member's through its role), ossguard's own
 * writes (its audit records, its reverts in a member) are not read at all, and an object already deleted is
 * nothing to revert. Uploads in accounts ossguard does not act in are not read: an audit record per upload
 * there would double the writes, and the log line counts them. A read that fails after retries fails the
 * invocation, so the range is read again and nothing is lost.
 */
async function publicObjectWrites(
  writes: readonly ParsedItem[],
  deps: InvocationDeps,
  defaultRegion: string,
  log: Logger,
): Promise<{ public: ParsedItem[]; failed: InvocationResult['retryableFailures'] }> {
  const distinct = new Map<string, PossibleExposure>();
  for (const item of writes) {
    if (item.kind !== 'change') continue;
    const { record } = item;
    const { bucket, objectKey } = record.resources;
    if (!bucket || objectKey === undefined) continue;
    const id = objectId(record.region, bucket, objectKey);
    distinct.set(id, {
      change: item,
      record,
      eventId: record.eventId,
      bucket,
      key: objectKey,
      region: record.region || defaultRegion,
    });
  }
  const found: ParsedItem[] = [];
  const failed: InvocationResult['retryableFailures'] = [];
  const limit = pLimit(RECHECK_CONCURRENCY);
  let outside = 0;
  const recheck = async (write: PossibleExposure): Promise<void> => {
    let placed: Awaited<ReturnType<typeof placeChange>>;
    try {
      placed = await placeChange(deps, write.record);
    } catch (error) {
      // A member role that cannot be assumed: its guard records the failure and alerts with the fix; a fault
      // fails the range like a failed read.
      if (error instanceof CloudApiError && error.retryable)
        failed.push({ eventId: write.eventId, error: describeError(error) });
      else found.push(write.change);
      return;
    }
    const { placement, own } = placed;
    if (own.some((r) => isOwnRole(write.record.actor, r))) return;
    if (placement.kind === 'outside') {
      outside++;
      return;
    }
    try {
      const oss = placement.kind === 'member' ? placement.clients.oss : deps.oss;
      const acl = await new OssGateway(oss, write.region, new CallLog()).getObjectAcl(
        write.bucket,
        write.key,
      );
      if (acl === 'public-read' || acl === 'public-read-write') found.push(write.change);
    } catch (error) {
      if (isNotFound(error)) return;
      log.warn('object ACL re-check failed', {
        bucket: write.bucket,
        key: write.key,
        error: describeError(error),
      });
      failed.push({ eventId: write.eventId, error: `GetObjectAcl: ${describeError(error)}` });
    }
  };
  await Promise.all([...distinct.values()].map((write) => limit(() => recheck(write))));
  if (outside > 0) log.info('uploads in accounts ossguard does not act in were not re-checked', { outside });
  return { public: found, failed };
}
