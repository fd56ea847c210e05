import type { CallLog } from './calllog';
import type { CloudCredentials } from './oss';
import { popCall } from './pop';
import { DEFAULT_RETRY, type RetryOptions } from './retry';
import { type RpcCall, rpcCaller } from './rpc-call';

/** Resource Directory's calls in Resource Management (F-RD-LISTACCOUNTS). */
export const RESOURCE_MANAGER_VERSION = '2020-03-31';
const RESOURCE_MANAGER_HOST = 'resourcemanager.aliyuncs.com';
const RESOURCE_MANAGER_REGION = 'cn-hangzhou';
/** ListAccounts returns at most 100 a page (F-RD-LISTACCOUNTS). */
const PAGE_SIZE = 100;

export function resourceManagerCaller(credentials: CloudCredentials, endpoint?: string): RpcCall {
  return rpcCaller(
    credentials,
    { version: RESOURCE_MANAGER_VERSION, host: RESOURCE_MANAGER_HOST, region: RESOURCE_MANAGER_REGION },
    endpoint,
  );
}

/** One member of the directory, as ListAccounts lists it. */
export interface DirectoryAccount {
  accountId: string;
  displayName: string;
}

/**
 * Every account of the resource directory, page by page. Only the management account, or a delegated
 * administrator, may call it (F-RD-LISTACCOUNTS).
 */
export async function listAccounts(
  call: RpcCall,
  log: CallLog,
  retry: RetryOptions = DEFAULT_RETRY,
): Promise<DirectoryAccount[]> {
  const found: DirectoryAccount[] = [];
  for (let page = 1; ; page++) {
    const { body } = await popCall('resourcemanager', 'ListAccounts', log, retry, async () => ({
      body: await call('ListAccounts', { PageNumber: page, PageSize: PAGE_SIZE }),
    }));
    const accounts = (body.Accounts as { Account?: unknown } | undefined)?.Account;
    const list = Array.isArray(accounts) ? (accounts as Array<Record<string, unknown>>) : [];
    for (const raw of list) {
      const accountId = String(raw.AccountId ?? '');
      if (/^\d+$/.test(accountId))
        found.push({ accountId, displayName: typeof raw.DisplayName === 'string' ? raw.DisplayName : '' });
    }
    const total = Number(body.TotalCount ?? 0);
    if (list.length < PAGE_SIZE || found.length >= total) return found;
  }
}
