import type { CloudCredentials } from './oss';
import { rpcCaller } from './rpc-call';

/** KMS's API version: GetSecretValue and CreateSecret (F-KMS-GETSECRETVALUE, F-KMS-CREATESECRET). */
export const KMS_VERSION = '2016-01-20';

/** The secret operations ossguard uses. */
export interface KmsSecrets {
  /** The value of the secret's ACSCurrent version (F-KMS-GETSECRETVALUE). */
  getSecretValue(name: string): Promise<string>;
  /** Creates a generic secret with its first version `v1` (F-KMS-CREATESECRET); the value is sent, never logged. */
  createSecret(name: string, value: string, description: string): Promise<void>;
}

/**
 * KMS through openapi-core's generic `callApi`, RPC style, signed with ACS3 like every other POP call here.
 * The npm package @alicloud/kms20160120 (1.2.0) is the older generation built on @alicloud/rpc-client, a
 * second signing stack for two calls. The endpoint is regional (`kms.<region>.aliyuncs.com`,
 * F-KMS-ENDPOINT) unless overridden (the local cloud).
 */
export function kmsSecrets(credentials: CloudCredentials, region: string, endpoint?: string): KmsSecrets {
  const call = rpcCaller(
    credentials,
    { version: KMS_VERSION, host: `kms.${region}.aliyuncs.com`, region },
    endpoint,
  );
  return {
    async getSecretValue(name) {
      const body = await call('GetSecretValue', { SecretName: name });
      if (typeof body.SecretData !== 'string')
        throw new Error(`GetSecretValue for ${name} answered without SecretData`);
      return body.SecretData;
    },
    async createSecret(name, value, description) {
      await call('CreateSecret', {
        SecretName: name,
        SecretData: value,
        SecretDataType: 'text',
        VersionId: 'v1',
        Description: description,
      });
    },
  };
}
