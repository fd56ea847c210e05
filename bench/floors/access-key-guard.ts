import Ims, * as $Ims from '@alicloud/ims20190815';
import Ram, * as $Ram from '@alicloud/ram20150501';
import { popClient } from '../lib/sdk';
import { auditRecordExists, changeOf, type FloorContext, floorEnv, writeAuditRecord } from './env';

/**
 * The cold-start floor of access-key-guard: only the SDKs it uses (ali-oss for the audit record, the RAM
 * and IMS SDKs), making the guard's calls for a key to disable: audit-record check, owner, keys and login
 * profile in parallel, UpdateAccessKey, the audit write.
 */
export async function handler(event: Buffer, context: FloorContext): Promise<void> {
  const env = floorEnv(context);
  const { change, auditKey } = changeOf(event, env.audit.prefix);
  const userName = change.referencedResources['ACS::RAM::User']?.[0] ?? '';
  const accessKeyId = change.referencedResources['ACS::RAM::AccessKey']?.[0] ?? '';
  const ram = popClient(Ram, env.ramEndpoint, env.credentials);
  const ims = popClient(Ims, env.ramEndpoint, env.credentials);
  const audit = env.oss(env.audit.bucket);
  await Promise.all([
    auditRecordExists(audit, auditKey),
    ims.getUser(new $Ims.GetUserRequest({ userAccessKeyId: accessKeyId })),
    ram.listAccessKeys(new $Ram.ListAccessKeysRequest({ userName })),
    ram.getLoginProfile(new $Ram.GetLoginProfileRequest({ userName })).catch(() => undefined),
  ]);
  await ram.updateAccessKey(
    new $Ram.UpdateAccessKeyRequest({ userName, userAccessKeyId: accessKeyId, status: 'Inactive' }),
  );
  await writeAuditRecord(audit, auditKey);
}
