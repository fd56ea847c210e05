import OSS from 'ali-oss';
import type { EmittedRecord } from '../../shared/events/actiontrail-event';

export interface FloorContext {
  region: string;
  credentials: { accessKeyId: string; accessKeySecret: string; securityToken: string };
}

/** What a floor needs from the FC context and environment, read without ossguard's code. */
export function floorEnv(context: FloorContext) {
  const config = JSON.parse(process.env.OSSGUARD_CONFIG ?? '{}') as {
    audit: { bucket: string; prefix: string };
  };
  const { credentials } = context;
  return {
    audit: config.audit,
    ramEndpoint: process.env.OSSGUARD_RAM_ENDPOINT ?? '',
    credentials,
    /** An ali-oss client signed with the function's role, one per bucket as ossguard makes them. */
    oss: (bucket?: string) =>
      new OSS({
        endpoint: process.env.OSSGUARD_OSS_ENDPOINT ?? '',
        region: `oss-${context.region}`,
        accessKeyId: credentials.accessKeyId,
        accessKeySecret: credentials.accessKeySecret,
        stsToken: credentials.securityToken,
        ...(bucket ? { bucket } : {}),
      }),
  };
}

/** The ActionTrail record of a CloudEvent, and a key of the audit prefix (where the role may write) for it. */
export function changeOf(event: Buffer, auditPrefix: string): { change: EmittedRecord; auditKey: string } {
  const change = (JSON.parse(event.toString()) as { data: EmittedRecord }).data;
  return { change, auditKey: `${auditPrefix}floor/${change.eventId}.json` };
}

/** ossguard's audit-record check: a HEAD whose 404 is the usual answer. */
export const auditRecordExists = (audit: OSS, key: string): Promise<unknown> =>
  audit.head(key).catch(() => undefined);

/** ossguard's audit write: a small object, never overwriting one. */
export const writeAuditRecord = (audit: OSS, key: string): Promise<unknown> =>
  audit.put(key, Buffer.from('{}'), { headers: { 'x-oss-forbid-overwrite': 'true' } });
