// zod/mini like the config schema and the log-trigger event (shared/logtrigger/event.ts), so a bundle
// carries one zod.
import * as z from 'zod/mini';

/**
 * The shapes of what EventBridge and ActionTrail send, declared once. Optional fields vary between records
 * and samples (F-ACTIONTRAIL-RECORD-FIELDS, F-ACTIONTRAIL-ERROR-FIELDS: `errorCode` is "" on success in some),
 * so every field is lenient: a value of the wrong type, or an empty string, counts as absent rather than
 * failing the record. What a change cannot do without (its name, id, service, region) is checked by
 * shared/events/parse-actiontrail-events.ts, which says which one is missing.
 */

/** A non-empty string, else absent. */
const text = z.catch(
  z.optional(
    z.pipe(
      z.string(),
      z.transform((s) => s || undefined),
    ),
  ),
  undefined,
);

/** A non-empty string, or a number written as one (ids and addresses in some samples), else absent. */
const textOrNumber = z.catch(
  z.optional(
    z.pipe(
      z.union([z.string(), z.number()]),
      z.transform((v) => (typeof v === 'number' ? String(v) : v || undefined)),
    ),
  ),
  undefined,
);

/** Samples carry the MFA flag as the string "true"/"false"; a boolean is accepted too. */
const flag = z.optional(
  z.pipe(
    z.unknown(),
    z.transform((v) =>
      v === true || v === 'true' ? true : v === false || v === 'false' ? false : undefined,
    ),
  ),
);

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A JSON object (not an array) of this shape, else absent. */
const object = <Shape extends z.core.$ZodLooseShape>(shape: Shape) =>
  z.catch(z.optional(z.looseObject(shape)), undefined);

/** Any JSON object, as it is (not copied), else absent. */
const anyObject = z.catch(z.optional(z.custom<Record<string, unknown>>(isObject)), undefined);

/** `userIdentity` (F-ACTIONTRAIL-RECORD-FIELDS). */
const userIdentity = object({
  type: z.optional(z.unknown()),
  principalId: textOrNumber,
  accountId: textOrNumber,
  userName: textOrNumber,
  accessKeyId: textOrNumber,
  sessionContext: object({ attributes: object({ mfaAuthenticated: flag }) }),
});

/** One ActionTrail record (F-ACTIONTRAIL-RECORD-FIELDS): the fields ossguard reads, others kept unread. */
export const actionTrailRecord = z.looseObject({
  eventId: text,
  eventName: text,
  /** 1 or "1" (F-ACTIONTRAIL-EVENT-VERSION). */
  eventVersion: z.optional(z.unknown()),
  eventType: text,
  eventTime: text,
  eventSource: text,
  serviceName: text,
  acsRegion: text,
  /** Records from 2015-2016 name the account only here (F-ACTIONTRAIL-LEGACY-RECORD). */
  recipientAccountId: text,
  sourceIpAddress: textOrNumber,
  userAgent: textOrNumber,
  /** The VPC a call came from, when ActionTrail recognised one (F-ACTIONTRAIL-VPC-ID). */
  vpcId: text,
  userIdentity,
  /** A console sign-in's MFA check: `mfaChecked` (RAM user) or `isMFAChecked` (root), strings (F-ACTIONTRAIL-CONSOLE-SIGNIN). */
  additionalEventData: object({ mfaChecked: flag, isMFAChecked: flag }),
  requestParameters: anyObject,
  /** A new key's id; a new policy version's id (unverified that the record keeps it: F-RAM-POLICY-VERSION-IN-RECORD). */
  responseElements: object({
    AccessKey: object({ AccessKeyId: text }),
    PolicyVersion: object({ VersionId: text }),
  }),
  referencedResources: anyObject,
  resourceType: text,
  resourceName: text,
  errorCode: text,
  errorMessage: text,
});

export type ActionTrailRecord = z.infer<typeof actionTrailRecord>;

/** What decides whether a function handles a record, read before the rest is judged. */
export const recordName = z.looseObject({ eventId: text, eventName: text });

/**
 * The EventBridge CloudEvent envelope (F-EVENTBRIDGE-CLOUDEVENT-ENVELOPE). `data` is the record, as an
 * object or as JSON text; the parser tells the two apart, to say which is wrong.
 */
export const cloudEventEnvelope = z.looseObject({
  specversion: z.optional(z.unknown()),
  id: text,
  source: text,
  type: text,
  time: text,
  aliyunregionid: text,
  aliyunaccountid: text,
  data: z.optional(z.unknown()),
});

export type CloudEventEnvelope = z.infer<typeof cloudEventEnvelope>;

/** A LookupEvents page (F-ACTIONTRAIL-LOOKUP-API): its records, one per element. */
export const lookupEventsPage = z.looseObject({ Events: z.array(z.unknown()) });
