import { CallLog } from '../clients/calllog';
import { type CloudCredentials, OssGateway } from '../clients/oss';
import { pullPages, type ShardRange, type SlsApi } from '../clients/sls';
import { previousRuntimeAuditKey, runtimeAuditKey } from '../config/secrets';
import { CloudApiError, describeError } from '../errors';
import { selectTrailRecords, type TrailLogSelection } from '../events/trail-log';
import type { Actor } from '../events/types';
import { judgesRamUserKeys } from '../guards/key-usage';
import { isQueueWrite } from '../pipeline/deferred';
import { type ChangeSource, type FcContext, InvocationFailedError } from '../pipeline/handler';
import { type InvocationResult, isOwnRole, type OwnRole, ownRoles } from '../pipeline/run';
import { RemediationBudget } from '../pipeline/types';
import { parseLogTriggerEvent } from './event';
import { drainDeferred, handOn, handOnFailures, type Judged, judgeRoutes, type RouteEnv } from './routes';

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
      previous: previousRuntimeAuditKey(runtime),
    };
    // One blast-radius budget for the whole invocation, every route and every drained item alike (README).
    const budget = new RemediationBudget(runtime.config.maxRemediationsPerInvocation);
    const env: RouteEnv = { deps: { ...deps, budget }, context, runtime, log, queue };
    // What earlier invocations handed on goes first: it has waited longest. Only a range with someone else's
    // change, or with a new queue item, looks: the drain's own reads and writes are trail records too, and
    // looking on every range would start the next one for ever.
    const own = [
      ...ownRoles(deps.accountId, runtime.config.ownRoleName),
      ...(deps.accounts?.knownRoles() ?? []),
    ];
    const wake = [...selection.routes.values()].some((records) =>
      records.some((record) => !isOwnRecord(record, own) || isQueueWrite(record)),
    );
    const deadline = invocationDeadline(context, startedAt);
    // The drain takes at most half of what is left, so that the range itself is still judged in time.
    const drained = wake ? await drainDeferred(env, (Date.now() + deadline) / 2) : 0;
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
