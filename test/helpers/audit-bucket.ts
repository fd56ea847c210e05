import { IdentityStore } from '../../local/identity';
import { OssEmulator } from '../../local/oss';
import { CallLog } from '../../shared/clients/calllog';
import { OssClientFactory, OssGateway } from '../../shared/clients/oss';

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
