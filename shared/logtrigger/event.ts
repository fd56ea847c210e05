// zod/mini like the config schema (shared/config/schema.ts, which also sets its English messages), so the
// bundle carries one zod.
import * as z from 'zod/mini';
import { EventParseError } from '../errors';

/**
 * The event an FC log (SLS) trigger invokes a function with: one shard's cursor range, written since the
 * trigger last fired. Shape from the FC "trigger event format" page (F-FC-LOGTRIGGER-PAYLOAD):
 * `{parameter, source: {endpoint, projectName, logstoreName, shardId, beginCursor, endCursor}, jobName,
 * taskId, cursorTime}`, with `shardId` and `cursorTime` (Unix seconds) as numbers and `endpoint` as an
 * http URL of the region's intranet endpoint. Numbers given as strings and an endpoint without a scheme
 * are accepted too, in case other runtimes or versions send them so.
 */
export interface LogTriggerEvent {
  /** The trigger's `functionParameter`. */
  parameter: Record<string, unknown>;
  source: {
    /** Without the project: `http://cn-hangzhou-intranet.log.aliyuncs.com`. */
    endpoint: string;
    projectName: string;
    logstoreName: string;
    shardId: number;
    beginCursor: string;
    endCursor: string;
  };
  jobName?: string;
  taskId?: string;
  cursorTime?: number;
}

const count = z.union([
  z.number().check(z.int(), z.minimum(0)),
  z.pipe(z.string().check(z.regex(/^\d+$/)), z.transform(Number)),
]);

const schema = z.object({
  parameter: z.pipe(
    z.nullish(z.record(z.string(), z.unknown())),
    z.transform((value) => value ?? {}),
  ),
  source: z.object({
    endpoint: z.pipe(
      z.string().check(z.minLength(1)),
      z.transform((value) => (/^https?:\/\//.test(value) ? value : `https://${value}`)),
    ),
    projectName: z.string().check(z.minLength(1)),
    logstoreName: z.string().check(z.minLength(1)),
    shardId: count,
    beginCursor: z.string().check(z.minLength(1)),
    endCursor: z.string().check(z.minLength(1)),
  }),
  jobName: z.optional(z.string()),
  taskId: z.optional(z.string()),
  cursorTime: z.optional(count),
});

export function parseLogTriggerEvent(body: Buffer | string): LogTriggerEvent {
  let value: unknown;
  try {
    value = JSON.parse(body.toString());
  } catch (cause) {
    throw new EventParseError('log trigger event is not JSON', { cause });
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.map(String).join('.') || '(root)';
    throw new EventParseError(`not a log trigger event: ${where}: ${issue?.message ?? 'invalid'}`);
  }
  const { jobName, taskId, cursorTime, ...rest } = parsed.data;
  return {
    ...rest,
    ...(jobName === undefined ? {} : { jobName }),
    ...(taskId === undefined ? {} : { taskId }),
    ...(cursorTime === undefined ? {} : { cursorTime }),
  };
}
