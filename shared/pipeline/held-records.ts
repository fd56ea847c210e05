import type { OssGateway } from '../clients/oss';
import { describeError } from '../errors';
import type { Logger } from '../log';

/**
 * Audit records this function instance could not write because the audit bucket refused them. The
 * invocation fails, so EventBridge redelivers the change; FC keeps a warm instance for the next invocation, and
 * that invocation writes these records before it judges anything. The redelivery then finds the record of
 * what was done (a revert whose intent the same outage refused) instead of re-reading a fixed resource and
 * recording `skipped`. A redelivery that reaches another instance still records `skipped` (README,
 * "Reliability").
 */
const held = new Map<string, { bucket: string; body: string; eventId: string }>();

/** Bounds what a long outage can pile up in memory; the oldest are dropped first (their changes redeliver). */
const MAX_HELD = 1_000;

export function holdRecord(key: string, bucket: string, body: string, eventId: string): void {
  held.delete(key);
  held.set(key, { bucket, body, eventId });
  for (const oldest of held.keys()) {
    if (held.size <= MAX_HELD) break;
    held.delete(oldest);
  }
}

/** Writes the held records, write-once; those the bucket still refuses stay held for the next invocation. */
export async function writeHeldRecords(gateway: OssGateway, log: Logger): Promise<void> {
  for (const [key, { bucket, body, eventId }] of [...held]) {
    try {
      const written = await gateway.putObjectIfAbsent(bucket, key, body);
      held.delete(key);
      log.info('held audit record written', { eventId, auditKey: key, written });
    } catch (error) {
      log.warn('held audit record still cannot be written', {
        eventId,
        auditKey: key,
        error: describeError(error),
      });
      return;
    }
  }
}
