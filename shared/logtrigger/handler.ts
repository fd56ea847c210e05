import { CallLog } from '../clients/calllog';
import type { CloudCredentials } from '../clients/oss';
import { pullRange, type ShardRange, type SlsApi } from '../clients/sls';
import { loadRuntime, type Runtime } from '../config/load';
import { CloudApiError, describeError } from '../errors';
import { selectObjectAclChanges } from '../events/flattened';
import { objectAclGuard } from '../guards/acl';
import { createLogger } from '../log';
import {
  createGuardInvoker,
  type FcContext,
  InvocationFailedError,
  roleCredentials,
} from '../pipeline/handler';
import type { InvocationResult } from '../pipeline/run';
import { parseLogTriggerEvent } from './event';

export interface LogTriggerResult extends InvocationResult {
  /** Logs in the range, and how many of them were other events (GetObject, plain PutObject, …). */
  logs: number;
  ignored: number;
  malformed: number;
}

export type LogTriggerHandler = (event: Buffer | string, context: FcContext) => Promise<LogTriggerResult>;

/**
 * oss-object-acl-guard: an FC log trigger on the trail's logstore names a shard range; this reads exactly
 * that range with PullLogs and feeds the object ACL changes in it through the ACL guard's pipeline, so
 * exceptions, dry-run, the blast-radius cap, audit and alerts apply as for EventBridge events. A range
 * read twice (the trigger retries failed invocations) finds the audit records and does nothing again.
 */
export function createLogTriggerHandler(
  sls: (credentials: CloudCredentials, endpoint: string) => SlsApi,
  runtime: Runtime = loadRuntime(),
): LogTriggerHandler {
  const invoke = createGuardInvoker(objectAclGuard, {}, runtime);
  let cached: { key: string; api: SlsApi } | undefined;

  return async (event, context) => {
    const log = createLogger({ guard: 'oss-object-acl-guard', requestId: context.requestId });
    const { source } = parseLogTriggerEvent(event);
    const credentials = roleCredentials(context);
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
    let logs: Awaited<ReturnType<typeof pullRange>>;
    try {
      logs = await pullRange(cached.api, range, calls);
    } catch (error) {
      log.error('PullLogs failed after retries; failing the invocation so the trigger retries the range', {
        range: rangeId,
        error: describeError(error),
        requestIds: calls.entries.map((c) => c.requestId ?? '-').join(','),
      });
      if (error instanceof CloudApiError && !error.retryable) throw error;
      throw new InvocationFailedError([{ eventId: rangeId, error: describeError(error) }]);
    }

    const selection = selectObjectAclChanges(logs);
    for (const { position, reason } of selection.malformed) {
      log.warn('malformed trail log', { range: rangeId, position, error: reason });
    }
    log.info('read trail range', {
      range: rangeId,
      logs: logs.length,
      changes: selection.records.length - selection.malformed.length,
      ignored: selection.ignored,
      malformed: selection.malformed.length,
    });
    const result =
      selection.records.length > 0
        ? await invoke(selection.records, context, rangeId)
        : { decisions: [], retryableFailures: [] };
    return {
      ...result,
      logs: logs.length,
      ignored: selection.ignored,
      malformed: selection.malformed.length,
    };
  };
}
