import { randomUUID } from 'node:crypto';

/**
 * ActionTrail records and their EventBridge envelope, as the emulators emit them and as `ossguard verify`
 * sends its canary. The field set follows F-ACTIONTRAIL-RECORD-FIELDS and F-EVENTBRIDGE-CLOUDEVENT-ENVELOPE.
 */
export interface EmittedRecord {
  eventId: string;
  eventVersion: 1;
  eventName: string;
  eventType: 'ApiCall' | 'ConsoleOperation' | 'ConsoleSignin';
  eventRW: 'Write' | 'Read';
  /** OSS object-level calls are `Data` events, which a trail delivers only to its SLS logstore. */
  eventCategory: 'Management' | 'Data';
  eventSource: string;
  eventTime: string;
  acsRegion: string;
  serviceName: string;
  apiVersion?: string;
  isGlobal: boolean;
  requestId: string;
  sourceIpAddress: string;
  userAgent: string;
  userIdentity: Record<string, unknown>;
  requestParameters: Record<string, unknown>;
  responseElements?: Record<string, unknown>;
  referencedResources: Record<string, string[]>;
  /** A sign-in's MFA check and login account (F-ACTIONTRAIL-CONSOLE-SIGNIN). */
  additionalEventData?: Record<string, string>;
  errorCode?: string;
  errorMessage?: string;
}

export interface CloudEvent {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  subject: string;
  time: string;
  datacontenttype: 'application/json';
  aliyunaccountid: string;
  aliyunregionid: string;
  aliyuneventbusname: 'default';
  aliyunpublishtime: string;
  data: EmittedRecord;
}

/** Who made the call a record describes: the fields of `userIdentity`. */
export interface ActingPrincipal {
  kind: 'root-account' | 'ram-user' | 'assumed-role';
  accountId: string;
  principalId: string;
  userName: string;
  accessKeyId: string;
  mfa: boolean;
}

export function userIdentityOf(caller: ActingPrincipal): Record<string, unknown> {
  return {
    type: caller.kind,
    principalId: caller.principalId,
    accountId: caller.accountId,
    accessKeyId: caller.accessKeyId,
    userName: caller.userName,
    ...(caller.kind === 'root-account'
      ? {}
      : {
          sessionContext: {
            attributes: { mfaAuthenticated: String(caller.mfa), creationDate: new Date().toISOString() },
          },
        }),
  };
}

export interface RecordInput {
  caller: ActingPrincipal;
  eventName: string;
  serviceName: 'Oss' | 'Ram' | 'Ims';
  eventSource: string;
  region: string;
  requestId: string;
  sourceIp: string;
  userAgent: string;
  eventType?: 'ApiCall' | 'ConsoleOperation';
  apiVersion?: string;
  isGlobal?: boolean;
  requestParameters?: Record<string, unknown>;
  responseElements?: Record<string, unknown>;
  referencedResources?: Record<string, string[]>;
  errorCode?: string;
  errorMessage?: string;
}

export function buildRecord(input: RecordInput): EmittedRecord {
  return {
    eventId: randomUUID(),
    eventVersion: 1,
    eventName: input.eventName,
    eventType: input.eventType ?? 'ApiCall',
    eventRW: 'Write', // the bus carries write events only (F-EVENTBRIDGE-WRITE-ONLY)
    eventCategory: 'Management',
    eventSource: input.eventSource,
    eventTime: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    acsRegion: input.region,
    serviceName: input.serviceName,
    ...(input.apiVersion ? { apiVersion: input.apiVersion } : {}),
    isGlobal: input.isGlobal ?? false,
    requestId: input.requestId,
    sourceIpAddress: input.sourceIp,
    userAgent: input.userAgent,
    userIdentity: userIdentityOf(input.caller),
    requestParameters: input.requestParameters ?? {},
    ...(input.responseElements ? { responseElements: input.responseElements } : {}),
    referencedResources: input.referencedResources ?? {},
    ...(input.errorCode ? { errorCode: input.errorCode, errorMessage: input.errorMessage ?? '' } : {}),
  };
}

/** EventBridge type prefix per service: OSS documents `oss:`; RAM vs IMS is unverified, we emit both forms. */
const TYPE_PREFIX: Record<string, string> = { Oss: 'oss', Ram: 'ram', Ims: 'ims' };

export function wrapCloudEvent(record: EmittedRecord): CloudEvent {
  const prefix = TYPE_PREFIX[record.serviceName] ?? record.serviceName.toLowerCase();
  const bucket = record.referencedResources['ACS::OSS::Bucket']?.[0];
  const accountId = String(record.userIdentity.accountId ?? '');
  return {
    specversion: '1.0',
    id: randomUUID(),
    source: `acs.${prefix}`,
    type: `${prefix}:ActionTrail:${record.eventType}`,
    subject: `acs:${prefix}:${record.acsRegion}:${accountId}:${bucket ?? record.eventName}`,
    time: record.eventTime,
    datacontenttype: 'application/json',
    aliyunaccountid: accountId,
    aliyunregionid: record.acsRegion,
    aliyuneventbusname: 'default',
    aliyunpublishtime: new Date().toISOString(),
    data: record,
  };
}
