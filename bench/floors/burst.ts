import type OSS from 'ali-oss';
import { bucketTags } from '../lib/tags';
import { auditRecordExists, type FloorContext, floorEnv, writeAuditRecord } from './env';

interface BurstEvent {
  targets: Array<{ bucket: string; key: string }>;
  concurrency: number;
}

/**
 * The burst's floor, bundled and run like the function: per changed object, the calls oss-acl-guard makes
 * (audit-record check, object ACL and bucket tags at once; the revert; the audit write), `concurrency`
 * objects at a time with no other work.
 */
export async function handler(event: Buffer, context: FloorContext): Promise<void> {
  const env = floorEnv(context);
  const { targets, concurrency } = JSON.parse(event.toString()) as BurstEvent;
  const clients = new Map(targets.map((t) => [t.bucket, env.oss(t.bucket)]));
  const audit = env.oss(env.audit.bucket);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < targets.length) {
        const i = next++;
        const { bucket, key } = targets[i] as BurstEvent['targets'][number];
        const oss = clients.get(bucket) as OSS;
        const record = `${env.audit.prefix}floor/burst-${i}.json`;
        await Promise.all([auditRecordExists(audit, record), oss.getACL(key), bucketTags(oss, bucket)]);
        await oss.putACL(key, 'private');
        await writeAuditRecord(audit, record);
      }
    }),
  );
}
