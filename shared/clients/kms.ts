import type { CloudCredentials } from './oss';
import { rpcCaller } from './rpc-call';

/** KMS's API version: GetSecretValue and CreateSecret (F-KMS-GETSECRETVALUE, F-KMS-CREATESECRET). */
export const KMS_VERSION = '2016-01-20';

/** One version of a secret: its value and its id. */
export interface SecretVersion {
  value: string;
  versionId: string;
}

/** The secret operations ossguard uses. */
export interface KmsSecrets {
  /** The value of the secret's ACSCurrent version (F-KMS-GETSECRETVALUE). */
  getSecretValue(name: string): Promise<string>;
  /**
   * One version of the secret, by its id or by a stage label (ACSCurrent when neither is given; ACSPrevious is
   * the version before the latest rotation, F-KMS-PUTSECRETVALUE), with its id (F-KMS-GETSECRETVALUE).
   */
  getSecretVersion(name: string, select?: { versionId?: string; stage?: string }): Promise<SecretVersion>;
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
  const getSecretVersion: KmsSecrets['getSecretVersion'] = async (name, select = {}) => {
    const body = await call('GetSecretValue', {
      SecretName: name,
      ...(select.versionId ? { VersionId: select.versionId } : {}),
      ...(select.stage ? { VersionStage: select.stage } : {}),
    });
    if (typeof body.SecretData !== 'string')
      throw new Error(`GetSecretValue for ${name} answered without SecretData`);
    return { value: body.SecretData, versionId: typeof body.VersionId === 'string' ? body.VersionId : '' };
  };
  return {
    async getSecretValue(name) {
      return (await getSecretVersion(name)).value;
    },
    getSecretVersion,
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
