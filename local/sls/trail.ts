import type { EmittedRecord } from '../actiontrail';

/** The topic ActionTrail gives the logs it delivers (AlibabaCloudDocs/sls "Log fields/ActionTrail.md"). */
export const TRAIL_TOPIC = 'actiontrail_event';

/**
 * An ActionTrail record as a trail logstore holds it: `event.`-prefixed dotted fields, one per scalar, with
 * lists kept as JSON text, plus `owner_id` (the field list of AlibabaCloudDocs/sls "Log fields/ActionTrail.md").
 * UNVERIFIED that real trails flatten nested objects this way rather than keep `event` as one JSON field;
 * ossguard's parser reads both.
 */
export function flattenRecord(record: EmittedRecord, ownerId: string): Record<string, string> {
  const log: Record<string, string> = { owner_id: ownerId };
  const walk = (value: unknown, path: string): void => {
    if (value === undefined || value === null) return;
    if (typeof value === 'object' && !Array.isArray(value)) {
      for (const [key, child] of Object.entries(value)) walk(child, `${path}.${key}`);
    } else {
      log[path] = typeof value === 'string' ? value : JSON.stringify(value);
    }
  };
  walk(record, 'event');
  return log;
}
