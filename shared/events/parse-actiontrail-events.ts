import { EventParseError } from '../errors';
import {
  type ActionTrailRecord,
  actionTrailRecord,
  type CloudEventEnvelope,
  cloudEventEnvelope,
  lookupEventsPage,
  recordName,
} from './schemas';
import type { Actor, ActorType, ChangeRecord, ChangeResources, EventOrigin, ParsedItem } from './types';

/**
 * ActionTrail records are about 1.3 KB each, and a batch of 1,000 of them (the burst benchmark) is 1.3 MB; a
 * body past 4 MiB is not something EventBridge or LookupEvents sends us, and parsing it would only spend the
 * 128 MB instance's memory. (The 5 MB case in the tests is the "hostile body" bound.)
 */
export const MAX_EVENT_BODY_BYTES = 4 * 1024 * 1024;

/** Request parameters worth keeping in the audit trail. Everything else is dropped: allowlist, not blocklist. */
const KEPT_REQUEST_PARAMETERS = [
  'bucketName',
  'BucketName',
  'objectKey',
  'ObjectName',
  'x-oss-acl',
  'x-oss-object-acl',
  'BlockPublicAccess',
  'UserName',
  'UserPrincipalName',
  'UserAccessKeyId',
  'Status',
  'stsTokenPlayerUid',
  // Which identity policy a RAM call names (the document itself is re-read, never kept).
  'PolicyName',
  'PolicyType',
  'SetAsDefault',
  'GroupName',
  'RoleName',
  // The version SetDefaultPolicyVersion made default: re-read from RAM (versions never change once created).
  'VersionId',
  // Which users a tagging call names (F-IMS-USER-TAGS): their tags are re-read, never taken from the record.
  'ResourceType',
  // The trust an UpdateRole asked for (F-RAM-UPDATEROLE): it can only add to role-trust-guard's alert, never clear it.
  'NewAssumeRolePolicyDocument',
] as const;

/**
 * Repeat lists of a tagging call, kept as `Name.N` (how the SDK sends them; whether a record keeps that form or
 * an array is unverified, so an array is kept in the same form), at most MAX_KEPT_LIST_ITEMS of each.
 */
const KEPT_REQUEST_LISTS = ['ResourcePrincipalName', 'ResourceId'] as const;
const MAX_KEPT_LIST_ITEMS = 50;

const MAX_KEPT_VALUE_LENGTH = 1024;

export interface ParseOptions {
  /** Event names the caller handles; others become `ignored` items. All names are accepted when absent. */
  accept?: ReadonlySet<string>;
}

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const str = (value: unknown): string | undefined =>
  typeof value === 'string' && value.length > 0 ? value : undefined;

/**
 * Turns whatever FC hands a function (a Buffer) into typed items: one per event, in order. Accepts an
 * EventBridge CloudEvent, a batch array of them, the RawData schema (the record alone), a bare ActionTrail
 * record, and a LookupEvents page (`{Events: [...]}`). A bad element never hides the good ones around it.
 */
export function parseEvents(body: Buffer | string | unknown, options: ParseOptions = {}): ParsedItem[] {
  let value: unknown = body;
  if (Buffer.isBuffer(body) || typeof body === 'string') {
    const size = Buffer.isBuffer(body) ? body.length : Buffer.byteLength(body);
    if (size > MAX_EVENT_BODY_BYTES) {
      return [invalid(0, `event body is ${size} bytes, over the ${MAX_EVENT_BODY_BYTES}-byte limit`)];
    }
    const text = body.toString().trim();
    if (text.length === 0) return [invalid(0, 'event body is empty')];
    try {
      value = JSON.parse(text);
    } catch (cause) {
      return [invalid(0, 'event body is not JSON', cause)];
    }
  }

  if (Array.isArray(value)) {
    if (value.length === 0) return [invalid(0, 'event batch is empty')];
    return value.map((element, index) => parseOne(element, index, 'record', options));
  }
  const page = lookupEventsPage.safeParse(value);
  if (page.success) {
    return page.data.Events.map((element, index) => parseOne(element, index, 'lookup-events', options));
  }
  return [parseOne(value, 0, 'record', options)];
}

function parseOne(value: unknown, index: number, origin: EventOrigin, options: ParseOptions): ParsedItem {
  try {
    // Whether this function handles the event is decided before the fields it would need are validated: a
    // record of another event (a legacy one without acsRegion, say) is skipped, not failed. Without a list of
    // names (trail-guard's routes are sorted by name already) nothing is peeked: one validation per record.
    const envelope = isCloudEvent(value) ? cloudEventEnvelope.parse(value) : undefined;
    const peeked = options.accept ? peek(value, envelope) : undefined;
    if (peeked?.eventName && !options.accept?.has(peeked.eventName)) {
      return {
        kind: 'ignored',
        index,
        reason: `event ${peeked.eventName} is not handled by this function`,
        ...(peeked.eventId ? { eventId: peeked.eventId } : {}),
        eventName: peeked.eventName,
      };
    }
    const record = envelope
      ? fromCloudEvent(envelope, index)
      : fromRecord(recordOf(value, index), index, origin);
    return { kind: 'change', index, record };
  } catch (error) {
    if (error instanceof EventParseError) return { kind: 'invalid', index, error };
    return invalid(index, 'event could not be parsed', error);
  }
}

function invalid(index: number, message: string, cause?: unknown): ParsedItem {
  return { kind: 'invalid', index, error: new EventParseError(message, { index, cause }) };
}

/**
 * What a CloudEvent without an ActionTrail eventId is deduplicated (and audited) by. One that carries the
 * record's eventId (F-EVENTBRIDGE-ACTIONTRAIL-DATA) goes by that, like the trail and LookupEvents paths, so
 * that a change seen on two paths is acted on once (source + id: F-EVENTBRIDGE-DEDUPE).
 */
export const cloudEventDedupeKey = (event: { source: string; id: string }): string =>
  `${event.source}/${event.id}`;

const isCloudEvent = (value: unknown): value is Json => isObject(value) && 'specversion' in value;

/** The event name and id of a record or CloudEvent, read without judging anything else. */
function peek(
  value: unknown,
  envelope: CloudEventEnvelope | undefined,
): { eventName?: string; eventId?: string } {
  if (!isObject(value)) return {};
  let data: unknown = envelope ? envelope.data : value;
  if (typeof data === 'string') {
    try {
      data = JSON.parse(data);
    } catch {
      return {};
    }
  }
  const record = recordName.safeParse(data);
  if (!record.success) return {};
  const { eventName } = record.data;
  const eventId = record.data.eventId ?? envelope?.id;
  return { ...(eventName ? { eventName } : {}), ...(eventId ? { eventId } : {}) };
}

function fromCloudEvent(event: CloudEventEnvelope, index: number): ChangeRecord {
  const { id, source, type } = event;
  if (!id || !source || !type) {
    throw new EventParseError('CloudEvent lacks id, source or type', { index });
  }
  let data = event.data;
  if (typeof data === 'string') {
    try {
      data = JSON.parse(data);
    } catch (cause) {
      throw new EventParseError('CloudEvent data is a string that is not JSON', {
        index,
        eventId: id,
        cause,
      });
    }
  }
  const parsed = actionTrailRecord.safeParse(data);
  if (!parsed.success) {
    throw new EventParseError(`CloudEvent ${id} has no ActionTrail record in data`, { index, eventId: id });
  }
  const record = fromRecord(parsed.data, index, 'cloudevent', {
    dedupeKey: parsed.data.eventId ?? cloudEventDedupeKey({ source, id }),
    region: event.aliyunregionid,
    accountId: event.aliyunaccountid,
    time: event.time,
    // `oss:ActionTrail:ConsoleOperation` → the record's eventType when the record itself omits it.
    eventType: type.split(':')[2],
    serviceFromType: type.split(':')[0],
  });
  return { ...record, envelope: { id, source, type } };
}

interface EnvelopeFacts {
  dedupeKey: string;
  region?: string;
  accountId?: string;
  time?: string;
  eventType?: string;
  serviceFromType?: string;
}

/** A record outside any envelope, validated once (a CloudEvent's record is validated by fromCloudEvent). */
function recordOf(value: unknown, index: number): ActionTrailRecord {
  const parsed = actionTrailRecord.safeParse(value);
  if (!parsed.success) throw new EventParseError('event is not a JSON object', { index });
  return parsed.data;
}

function fromRecord(
  record: ActionTrailRecord,
  index: number,
  origin: EventOrigin,
  envelope?: EnvelopeFacts,
): ChangeRecord {
  const { eventName } = record;
  if (!eventName) {
    throw new EventParseError('not an ActionTrail record or CloudEvent: eventName is missing', { index });
  }
  const eventId = record.eventId ?? envelope?.dedupeKey;
  if (!eventId) throw new EventParseError(`${eventName} record has no eventId`, { index });
  const version = record.eventVersion; // 1 or "1" (F-ACTIONTRAIL-EVENT-VERSION)
  if (version !== undefined && String(version) !== '1') {
    throw new EventParseError(`${eventName} record has unsupported eventVersion ${String(version)}`, {
      index,
      eventId,
    });
  }

  const { eventSource, userIdentity: identity } = record;
  const service =
    record.serviceName ?? serviceFromEventSource(eventSource) ?? capitalise(envelope?.serviceFromType);
  const region = record.acsRegion ?? envelope?.region ?? regionFromEventSource(eventSource);
  if (!service) throw new EventParseError(`${eventName} record names no service`, { index, eventId });
  if (!region) throw new EventParseError(`${eventName} record names no region`, { index, eventId });

  // The account the change belongs to: the recipient's, which a cross-account caller's userIdentity is not;
  // records from 2015-2016 name it only in recipientAccountId (F-ACTIONTRAIL-LEGACY-RECORD).
  const accountId = record.recipientAccountId ?? envelope?.accountId ?? identity?.accountId;
  const { errorCode, errorMessage } = record;

  return {
    dedupeKey: envelope?.dedupeKey ?? eventId,
    eventId,
    eventName,
    eventType: record.eventType ?? envelope?.eventType ?? 'ApiCall', // F-ACTIONTRAIL-EVENT-TYPES
    service,
    region,
    ...(accountId ? { accountId } : {}),
    time: record.eventTime ?? envelope?.time ?? new Date(0).toISOString(),
    actor: actorOf(record),
    ...(errorCode ? { errorCode } : {}),
    ...(errorMessage ? { errorMessage } : {}),
    resources: resourcesOf(record),
    requestParameters: keptParameters(record.requestParameters ?? {}),
    origin,
  };
}

const ACTOR_TYPES: readonly ActorType[] = ['root-account', 'ram-user', 'assumed-role', 'system'];

function actorOf(record: ActionTrailRecord): Actor {
  const identity = record.userIdentity ?? {};
  const actor: Actor = { type: ACTOR_TYPES.find((t) => t === identity.type) ?? 'unknown' };
  const fields: Array<[keyof Actor, string | undefined]> = [
    ['principalId', identity.principalId],
    ['accountId', identity.accountId],
    ['userName', identity.userName],
    ['accessKeyId', identity.accessKeyId],
    ['sourceIp', record.sourceIpAddress],
    ['userAgent', record.userAgent],
    ['vpcId', record.vpcId],
  ];
  for (const [key, text] of fields) if (text) Object.assign(actor, { [key]: text });
  // A sign-in has no session yet: its MFA check is in additionalEventData, named per identity
  // (F-ACTIONTRAIL-CONSOLE-SIGNIN).
  const signin = record.additionalEventData;
  const mfa =
    identity.sessionContext?.attributes?.mfaAuthenticated ?? signin?.mfaChecked ?? signin?.isMFAChecked;
  if (mfa !== undefined) actor.mfaAuthenticated = mfa;
  return actor;
}

function resourcesOf(record: ActionTrailRecord): ChangeResources {
  const { referencedResources: referenced = {}, requestParameters: params = {}, eventSource } = record;
  const named = resourceNameMap(record);
  const first = (type: string): string | undefined => {
    const list = referenced[type];
    return (Array.isArray(list) ? str(list[0]) : undefined) ?? named.get(type);
  };

  const bucket =
    first('ACS::OSS::Bucket') ??
    str(params.bucketName) ??
    str(params.BucketName) ??
    bucketFromEventSource(eventSource);
  const objectRef = first('ACS::OSS::Object');
  // UNVERIFIED: object references as `bucket/key` or the bare key (F-ACTIONTRAIL-REFERENCED-RESOURCES).
  // The key as sent comes first: a reference may be split on `,` and `;` (resourceName), which keys may hold.
  const objectKey =
    str(params.objectKey) ??
    str(params.ObjectName) ??
    (objectRef && bucket && objectRef.startsWith(`${bucket}/`)
      ? objectRef.slice(bucket.length + 1)
      : objectRef);
  const principalName = str(params.UserPrincipalName) ?? first('ACS::RAM::User');
  const ramUser = str(params.UserName) ?? principalName?.split('@')[0];
  // Where a new key's id sits is unverified (F-ACTIONTRAIL-CREATEACCESSKEY-RESPONSE).
  const accessKeyId =
    record.responseElements?.AccessKey?.AccessKeyId ??
    str(params.UserAccessKeyId) ??
    first('ACS::RAM::AccessKey');

  // The version a CreatePolicyVersion created is in its response, if the record keeps it (unverified), and the one
  // SetDefaultPolicyVersion made default in its request (F-RAM-POLICY-VERSION-IN-RECORD).
  const policyVersionId = record.responseElements?.PolicyVersion?.VersionId ?? str(params.VersionId);

  return {
    ...(bucket ? { bucket } : {}),
    ...(objectKey ? { objectKey } : {}),
    ...(ramUser ? { ramUser } : {}),
    ...(principalName?.includes('@') ? { ramUserPrincipalName: principalName } : {}),
    ...(accessKeyId ? { accessKeyId } : {}),
    ...(policyVersionId ? { policyVersionId } : {}),
  };
}

/** `resourceType` and `resourceName`: types separated by `;`, ids of one type by `,` (F-ACTIONTRAIL-RESOURCE-NAME). */
function resourceNameMap(record: ActionTrailRecord): Map<string, string> {
  const types = record.resourceType?.split(';') ?? [];
  const names = record.resourceName?.split(';') ?? [];
  const map = new Map<string, string>();
  types.forEach((type, i) => {
    const id = names[i]?.split(',')[0]?.trim();
    if (id) map.set(type.trim(), id);
  });
  return map;
}

/**
 * `<bucket>.oss-<region>[-internal|-cross].aliyuncs.com` (F-ACTIONTRAIL-OSS-EVENT-SHAPE); service-level hosts
 * have no bucket label.
 */
const OSS_HOST =
  /^(?:([a-z0-9][a-z0-9-]{1,61}[a-z0-9])\.)?oss-([a-z0-9-]+?)(?:-internal|-cross)?\.aliyuncs\.com$/;

function bucketFromEventSource(eventSource: string | undefined): string | undefined {
  return eventSource ? OSS_HOST.exec(eventSource)?.[1] : undefined;
}

function regionFromEventSource(eventSource: string | undefined): string | undefined {
  return eventSource ? OSS_HOST.exec(eventSource)?.[2] : undefined;
}

function serviceFromEventSource(eventSource: string | undefined): string | undefined {
  if (!eventSource) return undefined;
  if (OSS_HOST.test(eventSource)) return 'Oss';
  if (eventSource.startsWith('ram.')) return 'Ram';
  if (eventSource.startsWith('ims')) return 'Ims';
  return undefined;
}

const capitalise = (text: string | undefined): string | undefined =>
  text ? text.charAt(0).toUpperCase() + text.slice(1) : undefined;

/**
 * A record as ossguard may keep it beside the audit records (the deferred-work queue): only the request
 * parameters the parser keeps, and of the response only a new key's id and a new policy version's id. A CreateAccessKey response carries
 * the key's secret, a CreateLoginProfile request a password: neither may reach the audit bucket.
 */
export function keepableRecord(record: unknown): unknown {
  if (!isObject(record)) return record;
  const { requestParameters, responseElements, ...rest } = record;
  const response = isObject(responseElements) ? responseElements : {};
  const accessKey = isObject(response.AccessKey) ? response.AccessKey : undefined;
  const version = isObject(response.PolicyVersion) ? response.PolicyVersion : undefined;
  const kept = {
    ...(accessKey ? { AccessKey: { AccessKeyId: accessKey.AccessKeyId } } : {}),
    ...(version ? { PolicyVersion: { VersionId: version.VersionId } } : {}),
  };
  return {
    ...rest,
    ...(isObject(requestParameters) ? { requestParameters: keptParameters(requestParameters) } : {}),
    ...(accessKey || version ? { responseElements: kept } : {}),
  };
}

const isScalar = (raw: unknown): raw is string | number | boolean =>
  typeof raw === 'string' || typeof raw === 'number' || typeof raw === 'boolean';

function keptParameters(params: Json): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const key of KEPT_REQUEST_PARAMETERS) {
    const raw = params[key];
    if (isScalar(raw)) kept[key] = String(raw).slice(0, MAX_KEPT_VALUE_LENGTH);
  }
  for (const list of KEPT_REQUEST_LISTS) {
    const items = Array.isArray(params[list])
      ? (params[list] as unknown[])
      : Array.from({ length: MAX_KEPT_LIST_ITEMS }, (_, i) => params[`${list}.${i + 1}`]);
    items.slice(0, MAX_KEPT_LIST_ITEMS).forEach((raw, i) => {
      if (isScalar(raw)) kept[`${list}.${i + 1}`] = String(raw).slice(0, MAX_KEPT_VALUE_LENGTH);
    });
  }
  return kept;
}
