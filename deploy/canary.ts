import { randomBytes } from 'node:crypto';
import { buildRecord, type CloudEvent, wrapCloudEvent } from '../shared/events/actiontrail-event';
import { KEY_GUARD_EVENTS } from '../shared/events/names';

/**
 * The event `ossguard verify` sends a deployed guard: a well-formed ActionTrail write, wrapped as EventBridge
 * delivers it, about a bucket or RAM user that does not exist. The guard re-reads the resource, finds it
 * gone and answers "skipped" without changing anything. The one write it makes is its audit record, which is
 * the point: it proves the role can write the audit bucket.
 */
export interface Canary {
  event: CloudEvent;
  eventName: string;
  /** The resource that does not exist. */
  resource: string;
}

/** Events whose subject a canary cannot make up: the account's own setting, or an object in a bucket. */
const UNSUITABLE = new Set(['PutPublicAccessBlock', 'DeletePublicAccessBlock', 'PutObjectAcl']);
const KEY_EVENTS: ReadonlySet<string> = new Set(KEY_GUARD_EVENTS);

const eventNamesOf = (pattern: unknown): string[] => {
  const names = (pattern as { data?: { eventName?: unknown } } | null)?.data?.eventName;
  return Array.isArray(names) ? names.filter((n): n is string => typeof n === 'string') : [];
};

/** A canary for a function whose EventBridge pattern lists `data.eventName`; undefined when none fits. */
export function canaryFor(pattern: unknown, region: string, accountId: string): Canary | undefined {
  const eventName = eventNamesOf(pattern).find((name) => !UNSUITABLE.has(name));
  if (!eventName) return undefined;
  const suffix = randomBytes(6).toString('hex');
  const common = {
    caller: {
      kind: 'ram-user' as const,
      accountId,
      principalId: 'ossguard-verify',
      userName: 'ossguard-verify',
      accessKeyId: 'ossguard-verify',
      mfa: true,
    },
    eventName,
    region,
    requestId: `ossguard-verify-${suffix}`,
    sourceIp: '127.0.0.1',
    userAgent: 'ossguard-verify',
  };
  if (KEY_EVENTS.has(eventName)) {
    const userName = `ossguard-verify-${suffix}`;
    const accessKeyId = `LTAIverify${suffix.toUpperCase()}`;
    const record = buildRecord({
      ...common,
      serviceName: 'Ram',
      eventSource: 'ram.aliyuncs.com',
      isGlobal: true,
      requestParameters: { UserName: userName },
      responseElements: { AccessKey: { AccessKeyId: accessKeyId, Status: 'Active' } },
      referencedResources: { 'ACS::RAM::User': [userName], 'ACS::RAM::AccessKey': [accessKeyId] },
    });
    return { event: wrapCloudEvent(record), eventName, resource: `RAM user ${userName}` };
  }
  const bucket = `ossguard-verify-${suffix}`;
  const record = buildRecord({
    ...common,
    serviceName: 'Oss',
    eventSource: `${bucket}.oss-${region}.aliyuncs.com`,
    requestParameters: { BucketName: bucket },
    referencedResources: { 'ACS::OSS::Bucket': [bucket] },
  });
  return { event: wrapCloudEvent(record), eventName, resource: `bucket ${bucket}` };
}
