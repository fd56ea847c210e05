import { EventParseError } from '../errors';
import { OBJECT_ACL_EVENTS } from './names';

/** One log of a trail's logstore: SLS contents are string keys and string values. */
export type TrailLog = Readonly<Record<string, string>>;

/** The `__topic__` ActionTrail gives the logs it delivers (AlibabaCloudDocs/sls "Log fields/ActionTrail.md"). */
export const TRAIL_TOPIC = 'actiontrail_event';

const EVENT_PREFIX = 'event.';
const OBJECT_ACL_HEADER = 'x-oss-object-acl';

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A value SLS holds as text that was an object or array in the record, such as `event.requestParameters`. */
function jsonOrText(value: string): unknown {
  const text = value.trim();
  if (!(text.startsWith('{') && text.endsWith('}')) && !(text.startsWith('[') && text.endsWith(']'))) {
    return value;
  }
  try {
    return JSON.parse(text);
  } catch {
    return value;
  }
}

/**
 * The ActionTrail record inside a trail log, rebuilt as the nested JSON that `parseEvents` reads, so that
 * one parser validates records from EventBridge, LookupEvents and the logstore alike.
 *
 * UNVERIFIED which layout a real trail logstore holds: the SLS field list documents both a JSON `event`
 * field and dotted `event.eventName`, `event.userIdentity.type`, `event.requestParameters.*` fields. Both
 * are read; dotted fields win over the JSON field, and a dotted value that is itself JSON text (an object
 * kept whole, e.g. `event.requestParameters`) is parsed and merged.
 */
export function recordFromTrailLog(log: TrailLog, index = 0): Json {
  const topic = log.__topic__;
  if (topic !== undefined && topic !== TRAIL_TOPIC) {
    throw new EventParseError(`log topic ${topic} is not ${TRAIL_TOPIC}`, { index });
  }
  let record: Json = {};
  if (log.event !== undefined) {
    const whole = jsonOrText(log.event);
    if (!isObject(whole)) throw new EventParseError('the log field `event` is not a JSON object', { index });
    record = whole;
  }
  const dotted = Object.keys(log).filter((key) => key.startsWith(EVENT_PREFIX));
  if (log.event === undefined && dotted.length === 0) {
    throw new EventParseError('not an ActionTrail log: it has no event fields', { index });
  }
  for (const key of dotted.sort()) {
    setPath(record, key.slice(EVENT_PREFIX.length).split('.'), jsonOrText(log[key] ?? ''), key, index);
  }
  return record;
}

function setPath(target: Json, path: string[], value: unknown, key: string, index: number): void {
  const [head, ...rest] = path;
  if (!head) throw new EventParseError(`log field ${key} has an empty name segment`, { index });
  if (rest.length === 0) {
    const current = target[head];
    target[head] = isObject(current) && isObject(value) ? { ...current, ...value } : value;
    return;
  }
  const next = target[head] ?? {};
  if (!isObject(next)) {
    throw new EventParseError(`log field ${key} nests under ${head}, which is not an object`, { index });
  }
  target[head] = next;
  setPath(next, rest, value, key, index);
}

const OBJECT_ACL_EVENT_NAMES: ReadonlySet<string> = new Set(OBJECT_ACL_EVENTS);

/**
 * Whether a rebuilt record may have changed an object's ACL: PutObjectAcl always; PutObject, CopyObject
 * and AppendObject only when the caller sent `x-oss-object-acl`. UNVERIFIED that data events keep that
 * header in `requestParameters`; the OSS emulator writes it there, as it does for management events.
 */
export function isObjectAclChange(record: Json): boolean {
  const name = record.eventName;
  if (typeof name !== 'string' || !OBJECT_ACL_EVENT_NAMES.has(name)) return false;
  if (name === 'PutObjectAcl') return true;
  const params = isObject(record.requestParameters) ? record.requestParameters : {};
  return Object.keys(params).some((key) => key.toLowerCase() === OBJECT_ACL_HEADER);
}

/** What a page of trail logs holds for an object-ACL function. */
export interface TrailLogSelection {
  /** Object ACL changes and malformed logs, in log order: the pipeline audits the latter as invalid. */
  records: unknown[];
  /** Well-formed records of other events (GetObject, plain PutObject, …): counted, not audited. */
  ignored: number;
  /** Why each malformed log is malformed, by its position in `records`. */
  malformed: Array<{ position: number; reason: string }>;
}

/**
 * Sorts trail logs into object ACL changes (to judge), other events (to skip) and malformed logs. A
 * malformed log travels on as a record without an event name, so the pipeline reports and audits it like
 * any malformed event and the logs around it are still judged.
 */
export function selectObjectAclChanges(logs: readonly TrailLog[]): TrailLogSelection {
  const selection: TrailLogSelection = { records: [], ignored: 0, malformed: [] };
  logs.forEach((log, index) => {
    let record: Json;
    try {
      record = recordFromTrailLog(log, index);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      selection.malformed.push({ position: selection.records.length, reason });
      selection.records.push({ eventId: log['event.eventId'] });
      return;
    }
    if (typeof record.eventName !== 'string') {
      selection.malformed.push({ position: selection.records.length, reason: 'the record has no eventName' });
      selection.records.push(record);
    } else if (isObjectAclChange(record)) {
      selection.records.push(record);
    } else {
      selection.ignored++;
    }
  });
  return selection;
}
