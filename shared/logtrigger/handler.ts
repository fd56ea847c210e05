import pLimit from 'p-limit';
import { CallLog } from '../clients/calllog';
import { type CloudCredentials, isNotFound, type OssClientFactory, OssGateway } from '../clients/oss';
import { pullPages, type ShardRange, type SlsApi } from '../clients/sls';
import { CloudApiError, describeError } from '../errors';
import { parseEvents } from '../events/parse-actiontrail-events';
import { selectTrailRecords, type TrailLogSelection, type TrailRoute } from '../events/trail-log';
import type { ParsedItem } from '../events/types';
import { aclGuard } from '../guards/acl';
import { identityPolicyGuard } from '../guards/identity-policy';
import { keyUsageGuard, keyUsesToJudge } from '../guards/key-usage';
import { keyGuard } from '../guards/keys';
import { policyGuard } from '../guards/policy';
import { createLogger, type Logger } from '../log';
import { type ChangeSource, InvocationFailedError } from '../pipeline/handler';
import {
  type InvocationDeps,
  type InvocationResult,
  isOwnRole,
  type OwnRole,
  ownRoles,
  runGuard,
} from '../pipeline/run';
import { parseLogTriggerEvent } from './event';

export interface LogTriggerResult extends InvocationResult {
  /** Logs in the range, and how many of them were events no guard handles (GetObject, ListBuckets, …). */
  logs: number;
  ignored: number;
  malformed: number;
  /** Object writes whose record shows no ACL, and how many of those objects the re-check found public. */
  rechecked: number;
  recheckedPublic: number;
}

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
    let logs = 0;
    try {
      for await (const page of pullPages(cached.api, range, calls)) {
        selectTrailRecords(page, selection, logs);
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
    // Each routed record is parsed once, here, for the re-check and for its guard alike.
    const parsed = (route: TrailRoute): ParsedItem[] => {
      const records = selection.routes.get(route) ?? [];
      return records.length > 0 ? parseEvents(records) : [];
    };
    const result: InvocationResult = { decisions: [], retryableFailures: [] };
    const judge = async (route: GuardRoute, items: ParsedItem[], step: string = route): Promise<void> => {
      if (items.length === 0) return;
      // The other routes still run: one guard's cloud faults must not hold back another's changes.
      const part = await JUDGES[route](items, {
        ...deps,
        log: createLogger({ guard: route, requestId: context.requestId }),
        invocationId: `${rangeId}/${step}`,
        route: `trail-guard/${step}`,
      });
      result.decisions.push(...part.decisions);
      result.retryableFailures.push(...part.retryableFailures);
    };

    // The ACL changes first: an object they revert then reads back private in the re-check, so one exposure
    // is handled once; and every upload is re-checked whatever else the range says of its object (a failed
    // or already handled PutObjectAcl, or ossguard's own revert, says nothing of what the upload set).
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
    await judge('key-usage-guard', parsed('key-usage-guard'));
    log.info('read trail range', {
      range: rangeId,
      logs,
      decisions: result.decisions.length,
      rechecked: writes.length,
      recheckedPublic: recheck.public.length,
      ignored: selection.ignored,
      malformed: selection.malformed.length,
    });
    if (result.retryableFailures.length > 0) throw new InvocationFailedError(result.retryableFailures);
    return {
      ...result,
      logs,
      ignored: selection.ignored,
      malformed: selection.malformed.length,
      rechecked: writes.length,
      recheckedPublic: recheck.public.length,
    };
  };
  return { name: 'trail-guard', run };
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
