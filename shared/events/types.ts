import type { EventParseError } from '../errors';

export type ActorType = 'root-account' | 'ram-user' | 'assumed-role' | 'system' | 'unknown';

/** Who made the change, from the record's `userIdentity` plus the network facts next to it. */
export interface Actor {
  type: ActorType;
  principalId?: string;
  accountId?: string;
  /** ram-user: the user name; assumed-role: `RoleName:RoleSessionName`; root: `root`. */
  userName?: string;
  accessKeyId?: string;
  /**
   * From `sessionContext.attributes.mfaAuthenticated`, or for a console sign-in from
   * `additionalEventData.mfaChecked` / `isMFAChecked` (F-ACTIONTRAIL-CONSOLE-SIGNIN); undefined when the record
   * does not say.
   */
  mfaAuthenticated?: boolean;
  sourceIp?: string;
  /** The record's `vpcId`: the VPC the call came from, when ActionTrail recognised one (F-ACTIONTRAIL-VPC-ID). */
  vpcId?: string;
  userAgent?: string;
}

/** The resource ids a change names. They say *which* resource to re-read, never what its state is. */
export interface ChangeResources {
  bucket?: string;
  objectKey?: string;
  /** RAM user name (for IMS records, the part of the UserPrincipalName before `@`). */
  ramUser?: string;
  ramUserPrincipalName?: string;
  accessKeyId?: string;
  /** The custom policy version a call created or made default (F-RAM-POLICY-VERSION-IN-RECORD). */
  policyVersionId?: string;
}

/** How the record reached us; decides the dedupe key and helps when reading the audit log. */
/** `sweep`: a finding of the sweep, which no API call and no ActionTrail record stand behind. */
export type EventOrigin = 'cloudevent' | 'record' | 'lookup-events' | 'sweep';

/** One ActionTrail change, validated, with only allow-listed fields kept (no secrets, no raw payload). */
export interface ChangeRecord {
  /** `source`+`id` of the CloudEvent (what EventBridge redelivers unchanged), else the record's `eventId`. */
  dedupeKey: string;
  eventId: string;
  eventName: string;
  /** `ApiCall`, `ConsoleOperation`, … */
  eventType: string;
  /** `Oss`, `Ram`, `Ims`, … */
  service: string;
  region: string;
  accountId?: string;
  time: string;
  actor: Actor;
  errorCode?: string;
  errorMessage?: string;
  resources: ChangeResources;
  /** Allow-listed scalar request parameters, kept for the audit trail only. */
  requestParameters: Record<string, string>;
  origin: EventOrigin;
  envelope?: { id: string; source: string; type: string };
}

export type ParsedItem =
  | { kind: 'change'; index: number; record: ChangeRecord }
  | { kind: 'ignored'; index: number; reason: string; eventId?: string; eventName?: string }
  | { kind: 'invalid'; index: number; error: EventParseError };
