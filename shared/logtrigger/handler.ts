import pLimit from 'p-limit';
import { CallLog } from '../clients/calllog';
import { type CloudCredentials, isNotFound, type OssClientFactory, OssGateway } from '../clients/oss';
import { pullPages, type ShardRange, type SlsApi } from '../clients/sls';
import type { Runtime } from '../config/load';
import { runtimeAuditKey } from '../config/secrets';
import { CloudApiError, describeError } from '../errors';
import { keepableRecord, parseEvents } from '../events/parse-actiontrail-events';
import { selectTrailRecords, type TrailLogSelection, type TrailRoute } from '../events/trail-log';
import type { Actor, ParsedItem } from '../events/types';
import { aclGuard } from '../guards/acl';
import { identityPolicyGuard } from '../guards/identity-policy';
import { judgesRamUserKeys, keyUsageGuard, keyUsesToJudge } from '../guards/key-usage';
import { keyGuard } from '../guards/keys';
import { policyGuard } from '../guards/policy';
import { userTagGuard } from '../guards/user-tags';
import { createLogger, type Logger } from '../log';
import { deferWork, isQueueWrite, markTaken, pendingWork } from '../pipeline/deferred';
import { type ChangeSource, type FcContext, InvocationFailedError } from '../pipeline/handler';
import {
  type InvocationDeps,
  type InvocationResult,
  isOwnRole,
  type OwnRole,
  ownRoles,
  runGuard,
} from '../pipeline/run';
import { RemediationBudget } from '../pipeline/types';
import { parseLogTriggerEvent } from './event';

export interface LogTriggerResult extends InvocationResult {
  /** Logs in the range, and how many of them were events no guard handles (GetObject, ListBuckets, …). */
  logs: number;
  ignored: number;
  malformed: number;
  /** Object writes whose record shows no ACL, and how many of those objects the re-check found public. */
  rechecked: number;
  recheckedPublic: number;
  /** Records of the range handed on to the deferred-work queue. */
  deferred: number;
}

/** Without a timeout in the context, what s.yaml gives trail-guard. */
const DEFAULT_TIMEOUT_S = 60;

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
  'key-usage-guard': (items, deps) =>
    runGuard(keyUsageGuard, keyUsesToJudge(items, deps.runtime.config, deps.now?.() ?? new Date()), deps),
};

const emptySelection = (): TrailLogSelection => ({ routes: new Map(), ignored: 0, malformed: [] });

/**
 * trail-guard: an FC log trigger on the trail's logstore names a shard range; this reads exactly that range
 * with PullLogs and routes every record, management and data events alike, to the guard that handles its
 * event name, through the same pipeline as EventBridge events: exceptions, dry-run, the blast-radius cap,
 * audit and alerts apply alike, and a change already handled on the EventBridge path (same ActionTrail
 * eventId) is a duplicate here. A range read twice (the trigger retries failed invocations,
 * F-FC-LOGTRIGGER-INVOCATION) finds the audit records and does nothing again.
 *
 * Object writes whose record shows no ACL are re-checked with GetObjectAcl (unless `trail.recheckObjectWrites`
 * is off), and only those found public enter the pipeline: whether a trail shows the ACL header is
 * unverified (F-ACTIONTRAIL-OSS-ACL-HEADER), and an audit record per upload would double the writes.
 */
export function logTriggerSource(
  sls: (credentials: CloudCredentials, endpoint: string) => SlsApi,
): ChangeSource<LogTriggerResult> {
  let cached: { key: string; api: SlsApi } | undefined;

  const run: ChangeSource<LogTriggerResult>['run'] = async (
    event,
    context,
    { runtime, credentials, deps, log },
  ) => {
    const startedAt = Date.now();
    const { source } = parseLogTriggerEvent(event);
    const endpoint = runtime.endpoints.sls ?? source.endpoint;
    // STS credentials rotate; reuse the client only while FC hands us the same ones.
    const key = `${credentials.accessKeyId}@${endpoint}`;
    if (cached?.key !== key) cached = { key, api: sls(credentials, endpoint) };

    const range: ShardRange = {
      project: source.projectName,
      logstore: source.logstoreName,
      shardId: source.shardId,
      cursor: source.beginCursor,
      endCursor: source.endCursor,
    };
    const rangeId = `sls:${range.project}/${range.logstore}/${range.shardId}/${range.cursor}`;
    const calls = new CallLog();
    // Sorted page by page, so that only the records a guard takes stay in memory, not the whole range.
    const selection = emptySelection();
    const ramUserKeys = judgesRamUserKeys(runtime.config);
    let logs = 0;
    try {
      for await (const page of pullPages(cached.api, range, calls)) {
        selectTrailRecords(page, selection, logs, ramUserKeys);
        logs += page.length;
      }
    } catch (error) {
      log.error('PullLogs failed after retries; failing the invocation so the trigger retries the range', {
        range: rangeId,
        error: describeError(error),
        requestIds: calls.entries.map((c) => c.requestId ?? '-').join(','),
      });
      if (error instanceof CloudApiError && !error.retryable) throw error;
      throw new InvocationFailedError([{ eventId: rangeId, error: describeError(error) }]);
    }

    for (const { index, reason } of selection.malformed) {
      log.warn('malformed trail log', { range: rangeId, index, error: reason });
    }
    const queue = {
      gateway: new OssGateway(deps.oss, runtime.config.audit.region ?? context.region, new CallLog()),
      bucket: runtime.config.audit.bucket,
      key: runtimeAuditKey(runtime),
    };
    // One blast-radius budget for the whole invocation, every route and every drained item alike (README).
    const budget = new RemediationBudget(runtime.config.maxRemediationsPerInvocation);
    const env: RouteEnv = { deps: { ...deps, budget }, context, runtime, log, queue };
    // What earlier invocations handed on goes first: it has waited longest. Only a range with someone else's
    // change, or with a new queue item, looks: the drain's own reads and writes are trail records too, and
    // looking on every range would start the next one for ever.
    const own = ownRoles(deps.accountId, runtime.config.ownRoleName);
    const wake = [...selection.routes.values()].some((records) =>
      records.some((record) => !isOwnRecord(record, own) || isQueueWrite(record)),
    );
    const drained = wake ? await drainDeferred(env) : 0;
    const deadline = invocationDeadline(context, startedAt);
    const outcome = await untilDeadline(judgeRoutes(env, selection.routes, rangeId), deadline);
    const judged: Judged =
      outcome === 'timeout'
        ? await handOn(
            env,
            selection.routes,
            { from: rangeId, attempt: 1 },
            'the invocation neared its timeout',
            undefined,
          )
        : await handOnFailures(env, selection.routes, rangeId, outcome);
    log.info('read trail range', {
      range: rangeId,
      logs,
      decisions: judged.result.decisions.length,
      rechecked: judged.rechecked,
      recheckedPublic: judged.recheckedPublic,
      deferred: judged.deferred,
      drained,
      ignored: selection.ignored,
      malformed: selection.malformed.length,
    });
    if (judged.result.retryableFailures.length > 0)
      throw new InvocationFailedError(judged.result.retryableFailures);
    return {
      ...judged.result,
      logs,
      ignored: selection.ignored,
      malformed: selection.malformed.length,
      rechecked: judged.rechecked,
      recheckedPublic: judged.recheckedPublic,
      deferred: judged.deferred,
    };
  };
  return { name: 'trail-guard', run };
}

interface RouteEnv {
  deps: InvocationDeps;
  context: FcContext;
  runtime: Runtime;
  log: Logger;
  queue: Parameters<typeof deferWork>[0];
}

interface Judged {
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
async function judgeRoutes(
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
    ? await publicObjectWrites(
        writes,
        deps.oss,
        ownRoles(deps.accountId, runtime.config.ownRoleName),
        context.region,
        log,
      )
    : { public: [], failed: [] };
  result.retryableFailures.push(...recheck.failed);
  await judge('oss-acl-guard', recheck.public, 'object-acl-recheck');
  await judge('oss-policy-guard', parsed('oss-policy-guard'));
  await judge('access-key-guard', parsed('access-key-guard'));
  await judge('identity-policy-guard', parsed('identity-policy-guard'));
  await judge('user-tag-guard', parsed('user-tag-guard'));
  await judge('key-usage-guard', parsed('key-usage-guard'));
  return { result, rechecked: writes.length, recheckedPublic: recheck.public.length, deferred: 0 };
}

/**
 * The records whose changes could not be finished (cloud faults past the pipeline's retries) are handed on to
 * the deferred-work queue, and the range succeeds: retried by SLS until `maxRetryTime` it would then be skipped
 * for good. Only if the queue cannot be written either does the invocation fail, so the range is retried.
 */
async function handOnFailures(
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

async function handOn(
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
    const key = await deferWork(queue, {
      from,
      reason,
      deferredAt: new Date().toISOString(),
      attempt,
      routes: kept,
    });
    log.warn('unfinished changes handed on to the deferred-work queue', {
      from,
      key,
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

/** Whether a raw trail record is one of ossguard's own calls (`userIdentity`, F-ACTIONTRAIL-USER-IDENTITY). */
function isOwnRecord(record: unknown, own: readonly OwnRole[]): boolean {
  const identity = (record as { userIdentity?: Record<string, unknown> } | null)?.userIdentity ?? {};
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  const type = text(identity.type);
  const accountId = text(identity.accountId);
  const userName = text(identity.userName);
  const actor: Actor = {
    type: type === 'assumed-role' ? 'assumed-role' : 'unknown',
    ...(accountId ? { accountId } : {}),
    ...(userName ? { userName } : {}),
  };
  return own.some((role) => isOwnRole(actor, role));
}

/** Judges what earlier invocations handed on; what still cannot be finished is handed on again. */
async function drainDeferred(env: RouteEnv): Promise<number> {
  let pending: Awaited<ReturnType<typeof pendingWork>>;
  try {
    pending = await pendingWork(env.queue, new Date());
  } catch (error) {
    env.log.warn('deferred-work queue not read; the next invocation tries again', {
      error: describeError(error),
    });
    return 0;
  }
  for (const { key, work } of pending) {
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
  }
  return pending.length;
}

/**
 * When the range must be handed on rather than judged further: FC ends the invocation at its timeout
 * (F-FC-CONTEXT-FIELDS `function.timeout`), and a fifth of it (at least 5 s) is left to write the queue.
 */
function invocationDeadline(context: FcContext, startedAt: number): number {
  const timeoutMs = (context.function?.timeout ?? DEFAULT_TIMEOUT_S) * 1000;
  return startedAt + timeoutMs - Math.max(5_000, timeoutMs / 5);
}

/** The judged range, or 'timeout' once the deadline passes (its records are then handed on whole). */
async function untilDeadline(work: Promise<Judged>, deadline: number): Promise<Judged | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const objectId = (region: string, bucket: string, key: string): string => `${region}/${bucket}/${key}`;

/** An object write whose record shows no ACL: the object may have been uploaded public. */
interface PossibleExposure {
  change: ParsedItem;
  eventId: string;
  bucket: string;
  key: string;
  region: string;
}

/**
 * Of the object writes whose record shows no ACL, those whose object is public now: each distinct object is
 * read once (GetObjectAcl), ossguard's own writes (its audit records) are not read at all, and an object
 * already deleted is nothing to revert. A read that
 * fails after retries fails the invocation, so the range is read again and nothing is lost.
 */
async function publicObjectWrites(
  writes: readonly ParsedItem[],
  oss: OssClientFactory,
  own: readonly OwnRole[],
  defaultRegion: string,
  log: Logger,
): Promise<{ public: ParsedItem[]; failed: InvocationResult['retryableFailures'] }> {
  const distinct = new Map<string, PossibleExposure>();
  for (const item of writes) {
    if (item.kind !== 'change') continue;
    const { record } = item;
    const { bucket, objectKey } = record.resources;
    if (!bucket || objectKey === undefined || own.some((r) => isOwnRole(record.actor, r))) continue;
    const id = objectId(record.region, bucket, objectKey);
    distinct.set(id, {
      change: item,
      eventId: record.eventId,
      bucket,
      key: objectKey,
      region: record.region || defaultRegion,
    });
  }
  const found: ParsedItem[] = [];
  const failed: InvocationResult['retryableFailures'] = [];
  const limit = pLimit(RECHECK_CONCURRENCY);
  const recheck = async (write: PossibleExposure): Promise<void> => {
    try {
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
  return { public: found, failed };
}
