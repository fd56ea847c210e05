import type { EmittedRecord } from '../../shared/events/actiontrail-event';

/** The `__topic__` a trail gives the logs it delivers to SLS (F-SLS-TRAIL-TOPIC). */
export const TRAIL_TOPIC = 'actiontrail_audit_event';

/**
 * An ActionTrail record as a trail's logstore holds it: the whole record as JSON text in the field `event`
 * (F-SLS-TRAIL-EVENT-FIELD). The dotted `event.*` names of the SLS field list are index subfields of that
 * JSON, not fields of the log (F-SLS-TRAIL-INDEX-FIELDS), so none are written.
 */
export function trailLog(record: EmittedRecord): Record<string, string> {
  return { event: JSON.stringify(record) };
}
