import { bucketTags } from '../lib/tags';
import { auditRecordExists, changeOf, type FloorContext, floorEnv, writeAuditRecord } from './env';

/**
 * The cold-start floor of oss-acl-guard: only the SDK it uses (ali-oss), making the calls the guard makes
 * for a bucket made public: audit-record check, ACL and tags read in parallel, the revert, the audit write.
 */
export async function handler(event: Buffer, context: FloorContext): Promise<void> {
  const env = floorEnv(context);
  const { change, auditKey } = changeOf(event, env.audit.prefix);
  const bucket = change.referencedResources['ACS::OSS::Bucket']?.[0] ?? '';
  const oss = env.oss();
  const audit = env.oss(env.audit.bucket);
  await Promise.all([auditRecordExists(audit, auditKey), oss.getBucketACL(bucket), bucketTags(oss, bucket)]);
  await oss.putBucketACL(bucket, 'private');
  await writeAuditRecord(audit, auditKey);
}
