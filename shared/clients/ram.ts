import Ims, * as $Ims from '@alicloud/ims20190815';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import Ram, * as $Ram from '@alicloud/ram20150501';
import { CloudApiError } from '../errors';
import type { CallLog } from './calllog';
import type { CloudCredentials } from './oss';
import { popCall, popConfig } from './pop';
import { DEFAULT_RETRY, type RetryOptions } from './retry';

export interface RamClientOptions {
  credentials: CloudCredentials;
  /** Endpoint overrides (the local cloud); RAM and IMS are global services with central endpoints. */
  ramEndpoint?: string;
  imsEndpoint?: string;
  retry?: RetryOptions;
}

/** RAM and IMS are global; ActionTrail records their events in cn-shanghai (actiontrail-events.md §1.4). */
const GLOBAL_REGION = 'cn-shanghai';

export class RamClientFactory {
  readonly ram: Ram;
  readonly ims: Ims;
  readonly retry: RetryOptions;

  constructor(options: RamClientOptions) {
    this.ram = new Ram(
      new $OpenApiUtil.Config(
        popConfig(options.credentials, 'ram.aliyuncs.com', GLOBAL_REGION, options.ramEndpoint),
      ),
    );
    this.ims = new Ims(
      new $OpenApiUtil.Config(
        popConfig(options.credentials, 'ims.aliyuncs.com', GLOBAL_REGION, options.imsEndpoint),
      ),
    );
    this.retry = options.retry ?? DEFAULT_RETRY;
  }
}

export interface KeyOwner {
  userName: string;
  userPrincipalName?: string;
  tags: Record<string, string>;
}

const isEntityMissing = (error: unknown): boolean =>
  error instanceof CloudApiError && error.code.startsWith('EntityNotExist');

/** The RAM/IMS calls the AccessKey guard makes, with retries and a request-id log. */
export class RamGateway {
  constructor(
    private readonly clients: RamClientFactory,
    private readonly log: CallLog,
  ) {}

  /** IMS GetUser by AccessKey id: who owns the key, and the user's tags (for exceptions). Undefined: no RAM user owns it. */
  async keyOwner(accessKeyId: string): Promise<KeyOwner | undefined> {
    try {
      const result = await popCall('ims', 'GetUser', this.log, this.clients.retry, () =>
        this.clients.ims.getUser(new $Ims.GetUserRequest({ userAccessKeyId: accessKeyId })),
      );
      const user = result.body?.user;
      if (!user?.userName && !user?.userPrincipalName) return undefined;
      const tags: Record<string, string> = {};
      for (const tag of user.tags?.tag ?? []) if (tag.tagKey) tags[tag.tagKey] = tag.tagValue ?? '';
      return {
        userName: user.userName ?? (user.userPrincipalName ?? '').split('@')[0] ?? '',
        ...(user.userPrincipalName ? { userPrincipalName: user.userPrincipalName } : {}),
        tags,
      };
    } catch (error) {
      if (isEntityMissing(error)) return undefined;
      throw error;
    }
  }

  async listAccessKeys(userName: string): Promise<Array<{ accessKeyId: string; status: string }>> {
    const result = await popCall('ram', 'ListAccessKeys', this.log, this.clients.retry, () =>
      this.clients.ram.listAccessKeys(new $Ram.ListAccessKeysRequest({ userName })),
    );
    return (result.body?.accessKeys?.accessKey ?? []).map((k) => ({
      accessKeyId: k.accessKeyId ?? '',
      status: k.status ?? '',
    }));
  }

  async hasLoginProfile(userName: string): Promise<boolean> {
    try {
      await popCall('ram', 'GetLoginProfile', this.log, this.clients.retry, () =>
        this.clients.ram.getLoginProfile(new $Ram.GetLoginProfileRequest({ userName })),
      );
      return true;
    } catch (error) {
      if (isEntityMissing(error)) return false;
      throw error;
    }
  }

  async disableAccessKey(userName: string, accessKeyId: string): Promise<void> {
    await popCall('ram', 'UpdateAccessKey', this.log, this.clients.retry, () =>
      this.clients.ram.updateAccessKey(
        new $Ram.UpdateAccessKeyRequest({ userName, userAccessKeyId: accessKeyId, status: 'Inactive' }),
      ),
    );
  }
}
