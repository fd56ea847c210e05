import { AcsError, errorSpec, invalidParameter } from '../acs/errors';
import { type PopCall, PopEmulator, type PopEmulatorOptions, type PopHandler } from '../acs/server';
import type { Caller, IdentityStore } from '../identity';

/** One account of the local Resource Directory, in ListAccounts' fields (F-RD-LISTACCOUNTS). */
export interface DirectoryAccount {
  accountId: string;
  displayName: string;
  /** `ResourceAccount` (created in the directory) or `CloudAccount` (an existing account invited). */
  type: 'ResourceAccount' | 'CloudAccount';
  joinMethod: 'created' | 'invited';
  status: 'CreateSuccess' | 'InviteSuccess';
}

export interface ResourceManagerEmulatorOptions extends PopEmulatorOptions {
  identities: IdentityStore;
  /** The management account: the one that enabled the directory. */
  managementAccountId: string;
  managementAccountName: string;
  /** Every account in the directory, the management account included, in listing order. */
  accounts: () => readonly DirectoryAccount[];
  /** RAM permission of a RAM user or role of the management account (`resourcemanager:<Action>`). */
  authorize?: (caller: Caller, action: string, resource: string) => boolean;
}

/** Resource Manager 2020-03-31 on resourcemanager.aliyuncs.com (F-RD-LISTACCOUNTS). */
const VERSION = '2020-03-31';
export const RESOURCE_DIRECTORY_ID = 'rd-local0001';
const ROOT_FOLDER_ID = 'r-local0001';
const MAX_PAGE_SIZE = 100;
const DEFAULT_PAGE_SIZE = 10;

/** F-RD-ERRORS: the member's refusal is UNVERIFIED for ListAccounts (the code other RD APIs answer). */
export const RD_ERRORS = {
  MemberAccount: errorSpec(
    409,
    'NoPermission.ResourceDirectory.MemberAccount',
    'ResourceDirectory Member Account is not authorized to perform this operation.',
  ),
  NotInUse: errorSpec(
    404,
    'ResourceDirectoryNotInUse',
    'The specified account is not an Alibaba Cloud account or a member account of the resource directory.',
  ),
  // UNVERIFIED: the RAM refusal of a management account's RAM user without resourcemanager permission.
  NoPermission: errorSpec(403, 'NoPermission', 'You are not authorized to perform this operation.'),
};

function pageParam(
  params: Readonly<Record<string, string>>,
  name: string,
  fallback: number,
  max: number,
): number {
  const raw = params[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > max) throw invalidParameter(name, `1 to ${max}`);
  return value;
}

/**
 * The Resource Directory the local accounts form: A enabled it and manages it, the members joined it.
 * ListAccounts answers the management account only; GetResourceDirectory answers every account in it.
 */
export class ResourceManagerEmulator extends PopEmulator {
  private readonly createTime = new Date().toISOString();

  constructor(private readonly options: ResourceManagerEmulatorOptions) {
    super(
      { versions: [VERSION], product: () => 'ResourceManager', hostId: () => 'resourcemanager.aliyuncs.com' },
      options,
    );
  }

  protected route(_version: string, action: string): PopHandler | undefined {
    if (action === 'ListAccounts') return (call) => this.listAccounts(call);
    if (action === 'GetResourceDirectory') return (call) => this.getResourceDirectory(call);
    return undefined;
  }

  private member(caller: Caller): DirectoryAccount {
    const account = this.options.accounts().find((a) => a.accountId === caller.accountId);
    if (!account) throw new AcsError(RD_ERRORS.NotInUse);
    return account;
  }

  private authorized(call: PopCall, resource: string): void {
    const { caller } = call;
    if (caller.kind === 'root-account' || !this.options.authorize) return;
    if (!this.options.authorize(caller, `resourcemanager:${call.action}`, resource)) {
      throw new AcsError(RD_ERRORS.NoPermission);
    }
  }

  private getResourceDirectory(call: PopCall): Record<string, unknown> {
    this.member(call.caller);
    this.authorized(call, '*');
    return {
      ResourceDirectory: {
        ResourceDirectoryId: RESOURCE_DIRECTORY_ID,
        RootFolderId: ROOT_FOLDER_ID,
        MasterAccountId: this.options.managementAccountId,
        MasterAccountName: this.options.managementAccountName,
        CreateTime: this.createTime,
      },
    };
  }

  private listAccounts(call: PopCall): Record<string, unknown> {
    this.member(call.caller);
    if (call.caller.accountId !== this.options.managementAccountId)
      throw new AcsError(RD_ERRORS.MemberAccount);
    // The action's resource is `acs:resourcemanager:*:{#accountId}:account/*` (F-RD-LISTACCOUNTS).
    this.authorized(call, `acs:resourcemanager:*:${call.caller.accountId}:account/*`);
    const pageNumber = pageParam(call.params, 'PageNumber', 1, Number.MAX_SAFE_INTEGER);
    const pageSize = pageParam(call.params, 'PageSize', DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
    const all = this.options.accounts();
    const page = all.slice((pageNumber - 1) * pageSize, pageNumber * pageSize);
    return {
      TotalCount: all.length,
      PageNumber: pageNumber,
      PageSize: pageSize,
      Accounts: {
        Account: page.map((account) => ({
          AccountId: account.accountId,
          DisplayName: account.displayName,
          Type: account.type,
          Status: account.status,
          JoinMethod: account.joinMethod,
          FolderId: ROOT_FOLDER_ID,
          ResourceDirectoryId: RESOURCE_DIRECTORY_ID,
          ResourceDirectoryPath: `${RESOURCE_DIRECTORY_ID}/${ROOT_FOLDER_ID}/${account.accountId}`,
          JoinTime: this.createTime,
          ModifyTime: this.createTime,
        })),
      },
    };
  }
}
