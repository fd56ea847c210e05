import { EventParseError } from '../errors';
import {
  ACL_GUARD_EVENTS,
  IDENTITY_POLICY_EVENTS,
  KEY_GUARD_EVENTS,
  OBJECT_ACL_EVENTS,
  OBJECT_WRITE_EVENTS,
  POLICY_GUARD_EVENTS,
  ROLE_TRUST_EVENTS,
  USER_TAG_EVENTS,
} from './names';

/** One log of a trail's logstore: SLS contents are string keys and string values. */
export type TrailLog = Readonly<Record<string, string>>;

/**
 * The `__topic__` values a log of ActionTrail may carry. A trail delivering to SLS writes
 * `actiontrail_audit_event` (F-SLS-TRAIL-TOPIC); `actiontrail_event` is what the Log Audit Service documents
 * for its own central logstore (F-SLS-LOGAUDIT-TOPIC). Both hold ActionTrail records, so both are read.
 */
export const TRAIL_TOPICS = ['actiontrail_audit_event', 'actiontrail_event'] as const;
const KNOWN_TOPICS: ReadonlySet<string> = new Set(TRAIL_TOPICS);

const EVENT_FIELD = 'event';
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
 * The ActionTrail record inside a trail log, as the nested JSON that `parseEvents` reads, so that one parser
 * validates records from EventBridge, LookupEvents and the logstore alike.
 *
 * A trail writes the whole record as JSON text in the field `event` (F-SLS-TRAIL-EVENT-FIELD). The dotted
 * `event.eventName`, `event.userIdentity.type`… names of the SLS field list are index subfields of that JSON
 * (an inference, F-SLS-TRAIL-INDEX-FIELDS), but should a logstore hold them as fields of their own they are
 * read too: dotted fields win over the JSON field, and a dotted value that is itself JSON text is merged.
 */
export function recordFromTrailLog(log: TrailLog, index = 0): Json {
  const topic = log.__topic__;
  if (topic !== undefined && !KNOWN_TOPICS.has(topic)) {
    throw new EventParseError(`log topic ${topic} is not an ActionTrail topic (${TRAIL_TOPICS.join(', ')})`, {
      index,
    });
  }
  let record: Json = {};
  const whole = log[EVENT_FIELD];
  if (whole !== undefined) {
    const parsed = jsonOrText(whole);
    if (!isObject(parsed)) throw new EventParseError('the log field `event` is not a JSON object', { index });
    record = parsed;
  }
  const dotted = Object.keys(log).filter((key) => key.startsWith(EVENT_PREFIX));
  if (whole === undefined && dotted.length === 0) {
    throw new EventParseError('not an ActionTrail log: it has no `event` field', { index });
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

const requestParametersOf = (record: Json): Json =>
  isObject(record.requestParameters) ? record.requestParameters : {};

/** Whether the record shows the `x-oss-object-acl` header the caller sent (F-ACTIONTRAIL-OSS-ACL-HEADER). */
const showsObjectAcl = (record: Json): boolean =>
  Object.keys(requestParametersOf(record)).some((key) => key.toLowerCase() === OBJECT_ACL_HEADER);

/**
 * Whether a record is known to have set an object's ACL: PutObjectAcl always; an object write when the record
 * shows the `x-oss-object-acl` header the caller sent.
 */
export function isObjectAclChange(record: Json): boolean {
  const name = record.eventName;
  if (typeof name !== 'string' || !OBJECT_ACL_EVENT_NAMES.has(name)) return false;
  return name === 'PutObjectAcl' || showsObjectAcl(record);
}

const OBJECT_WRITE_EVENT_NAMES: ReadonlySet<string> = new Set(OBJECT_WRITE_EVENTS);
const USER_TAG_EVENT_NAMES: ReadonlySet<string> = new Set(USER_TAG_EVENTS);

/**
 * Whether a tagging record tags RAM users (`ResourceType` `user`, F-IMS-USER-TAGS): many services record
 * TagResources for their own resources, and a busy trail holds many of them.
 */
const isUserTagging = (record: Json): boolean =>
  String(requestParametersOf(record).ResourceType ?? '').toLowerCase() === 'user';

/** Where a trail record goes: to a guard's pipeline, or to an ACL re-check first. */
export type TrailRoute =
  | 'oss-acl-guard'
  | 'oss-policy-guard'
  | 'access-key-guard'
  | 'object-acl-recheck'
  | 'key-usage-guard'
  | 'identity-policy-guard'
  | 'user-tag-guard'
  | 'role-trust-guard';

const GUARD_ROUTES: ReadonlyArray<[TrailRoute, ReadonlySet<string>]> = [
  ['oss-acl-guard', new Set(ACL_GUARD_EVENTS)],
  ['oss-policy-guard', new Set(POLICY_GUARD_EVENTS)],
  ['access-key-guard', new Set(KEY_GUARD_EVENTS)],
  ['identity-policy-guard', new Set(IDENTITY_POLICY_EVENTS)],
  ['role-trust-guard', new Set(ROLE_TRUST_EVENTS)],
];

/**
 * The route of one well-formed record, by its event name alone: the same record may arrive as a management
 * or a data event (F-ACTIONTRAIL-OSS-DATA-EVENTS leaves PutObjectAcl's category open), so the category is
 * not looked at. A failed call changed nothing and is not re-checked.
 */
export function routeOf(record: Json): TrailRoute | undefined {
  const name = record.eventName;
  if (typeof name !== 'string') return undefined;
  if (isObjectAclChange(record)) return 'oss-acl-guard';
  if (USER_TAG_EVENT_NAMES.has(name)) return isUserTagging(record) ? 'user-tag-guard' : undefined;
  for (const [route, names] of GUARD_ROUTES) if (names.has(name)) return route;
  if (OBJECT_WRITE_EVENT_NAMES.has(name) && !record.errorCode) return 'object-acl-recheck';
  return undefined;
}

const KEY_IDENTITIES: ReadonlySet<unknown> = new Set(['root-account', 'ram-user']);

/**
 * Whether key-usage-guard reads the record too, whatever its own route: a successful call by the account
 * itself or a RAM user that names an AccessKey, or a successful console sign-in (F-ACTIONTRAIL-USER-IDENTITY,
 * F-ACTIONTRAIL-CONSOLE-SIGNIN). Which of them a rule fires on is the guard's to judge.
 */
export function isKeyUse(record: Json, ramUserKeys = true): boolean {
  if (record.errorCode) return false;
  if (record.eventName === 'ConsoleSignin') return true;
  const identity = isObject(record.userIdentity) ? record.userIdentity : {};
  const judged = ramUserKeys ? KEY_IDENTITIES.has(identity.type) : identity.type === 'root-account';
  return judged && typeof identity.accessKeyId === 'string';
}

/** What a page of trail logs holds, sorted by where each record goes. */
export interface TrailLogSelection {
  /** Records per route in log order; malformed logs travel with the ACL guard, which audits them as invalid. */
  routes: Map<TrailRoute, unknown[]>;
  /**
   * Well-formed records of events no guard handles by name (GetObject, ListBuckets, …): counted, not audited
   * (key-usage-guard still reads those signed with a key, and audits only the few a rule fires on).
   */
  ignored: number;
  /** Why each malformed log is malformed. */
  malformed: Array<{ index: number; reason: string }>;
}

/**
 * Sorts trail logs by route, into `selection` when a range comes page by page (`firstIndex` is the page's
 * position in the range), so that only the records a guard takes are kept. A malformed log travels on as a
 * record without an event name, so the pipeline reports and audits it like any malformed event and the
 * logs around it are still judged.
 */
export function selectTrailRecords(
  logs: readonly TrailLog[],
  selection: TrailLogSelection = { routes: new Map(), ignored: 0, malformed: [] },
  firstIndex = 0,
  /**
   * Whether key-usage-guard judges RAM users' keys at all (only where allowed networks are configured): if
   * not, their calls, nearly every record of a busy trail, are not kept for it.
   */
  ramUserKeys = true,
): TrailLogSelection {
  const add = (route: TrailRoute, record: unknown) => {
    const list = selection.routes.get(route);
    if (list) list.push(record);
    else selection.routes.set(route, [record]);
  };
  logs.forEach((log, position) => {
    const index = firstIndex + position;
    let record: Json;
    try {
      record = recordFromTrailLog(log, index);
    } catch (error) {
      selection.malformed.push({ index, reason: error instanceof Error ? error.message : String(error) });
      add('oss-acl-guard', { eventId: log['event.eventId'] });
      return;
    }
    const route = routeOf(record);
    if (typeof record.eventName !== 'string') {
      selection.malformed.push({ index, reason: 'the record has no eventName' });
      add('oss-acl-guard', record);
    } else if (route) {
      add(route, record);
    } else {
      selection.ignored++;
    }
    if (isKeyUse(record, ramUserKeys)) add('key-usage-guard', record);
  });
  return selection;
}
