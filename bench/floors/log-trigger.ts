import { CallLog } from '../../shared/clients/calllog';
import { createSlsApi, pullRange, type ShardRange } from '../../shared/clients/sls';
import type { FloorContext } from './env';

interface FloorEvent {
  /** Read first and not timed: the function it is compared with is warm. */
  warmup: ShardRange;
  range: ShardRange;
}

/**
 * The log-trigger benchmark's floor, bundled and run like the function: the same shard range read with the
 * same client code (shared/clients/sls.ts: PullLogs, paging, lz4, JSON or protobuf) and every trail record
 * parsed from its `event` field (F-SLS-TRAIL-EVENT-FIELD), with no other work: no routing, no guard.
 */
export async function handler(event: Buffer, context: FloorContext) {
  const { warmup, range } = JSON.parse(event.toString()) as FloorEvent;
  const sls = createSlsApi(context.credentials, process.env.OSSGUARD_SLS_ENDPOINT ?? '');
  await pullRange(sls, warmup, new CallLog());
  const start = performance.now();
  const logs = await pullRange(sls, range, new CallLog());
  let records = 0;
  for (const log of logs) {
    const record = JSON.parse(log.event ?? '{}') as { eventName?: unknown };
    if (typeof record.eventName === 'string') records++;
  }
  return { ms: performance.now() - start, logs: logs.length, records, format: sls.format };
}
