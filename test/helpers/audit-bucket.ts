import { IdentityStore } from '../../local/identity';
import { OssEmulator } from '../../local/oss';
import type { AuditKey } from '../../shared/audit/record';
import { CallLog } from '../../shared/clients/calllog';
import { OssClientFactory, OssGateway } from '../../shared/clients/oss';
import type { ChangeRecord } from '../../shared/events/types';

export const TEST_AUDIT_REGION = 'cn-hangzhou';
export const TEST_AUDIT_BUCKET = 'audit-bucket';
export const TEST_AUDIT_PREFIX = 'ossguard/audit/';
/** The audit key of tests about the ledger: fake, and never a real one. */
export const TEST_AUDIT_KEY: AuditKey = {
  id: 'kms:ossguard-audit@v1',
  secret: Buffer.from('a-test-secret-not-a-real-one'),
};

/** The n-th change of a test, a PutBucketAcl by mallory on `exposed`; `idPrefix` keeps each file's ids apart. */
export const exposedBucketChange = (idPrefix: string, n: number): ChangeRecord => ({
  dedupeKey: `${idPrefix}-0000-4000-8000-${String(n).padStart(12, '0')}`,
  eventId: `${idPrefix}-0000-4000-8000-${String(n).padStart(12, '0')}`,
  eventName: 'PutBucketAcl',
  eventType: 'ApiCall',
  service: 'Oss',
  region: TEST_AUDIT_REGION,
  time: new Date().toISOString(),
  actor: { type: 'ram-user', userName: 'mallory' },
  resources: { bucket: 'exposed' },
  requestParameters: {},
  origin: 'cloudevent',
});

/** A local OSS holding one empty audit bucket, and ossguard's gateway to it with the local account's root key. */
export async function startAuditBucket(
  bucket: string,
  region: string,
): Promise<{ gateway: OssGateway; factory: OssClientFactory; close: () => Promise<void> }> {
  const identities = new IdentityStore();
  const oss = new OssEmulator({ identities });
  const endpoint = await oss.listen();
  const factory = new OssClientFactory({ credentials: identities.rootKey, endpoint });
  await factory.client(region).putBucket(bucket);
  return { gateway: new OssGateway(factory, region, new CallLog()), factory, close: () => oss.close() };
}
