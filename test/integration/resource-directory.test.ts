import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalCloud, MEMBER_ACCOUNTS } from '../../local/cloud';
import type { CloudCredentials } from '../../shared/clients/oss';
import { rpcCaller } from '../../shared/clients/rpc-call';

let cloud: LocalCloud;
const [B, C] = MEMBER_ACCOUNTS.map((a) => a.accountId) as [string, string];

const resourceManager = (credentials: CloudCredentials) =>
  rpcCaller(
    credentials,
    { version: '2020-03-31', host: 'resourcemanager.aliyuncs.com', region: 'cn-hangzhou' },
    cloud.endpoints.resourcemanager,
  );

const failure = async (work: Promise<unknown>): Promise<{ code?: string; statusCode?: number }> => {
  try {
    await work;
  } catch (error) {
    return error as { code?: string; statusCode?: number };
  }
  throw new Error('expected the call to fail');
};

interface Listed {
  TotalCount: number;
  PageNumber: number;
  PageSize: number;
  Accounts: { Account: Array<Record<string, string>> };
}

beforeAll(async () => {
  cloud = await LocalCloud.start({ noGuards: true, stateDir: '.ossguard-local/test-rd' });
});
afterAll(() => cloud.stop());

describe('the local Resource Directory', () => {
  it('lists every account of the directory to the management account, page by page', async () => {
    const call = resourceManager(cloud.rootCredentials());
    const first = (await call('ListAccounts', { PageNumber: 1, PageSize: 2 })) as unknown as Listed;
    const second = (await call('ListAccounts', { PageNumber: 2, PageSize: 2 })) as unknown as Listed;
    expect(first.TotalCount).toBe(3);
    expect([...first.Accounts.Account, ...second.Accounts.Account].map((a) => a.AccountId)).toEqual([
      cloud.identities.accountId,
      B,
      C,
    ]);
    expect(second.Accounts.Account[0]).toMatchObject({
      AccountId: C,
      DisplayName: 'member-c',
      Type: 'CloudAccount',
      JoinMethod: 'invited',
      Status: 'InviteSuccess',
      ResourceDirectoryId: cloud.readyInfo().resourceDirectoryId,
    });
    expect(first.Accounts.Account[1]).toMatchObject({
      AccountId: B,
      Type: 'ResourceAccount',
      JoinMethod: 'created',
    });
    expect(first.Accounts.Account[1]?.FolderId).toMatch(/^r-/);
  });

  it('refuses ListAccounts to member C, which is not the management account', async () => {
    const error = await failure(resourceManager(cloud.rootCredentials(C))('ListAccounts', {}));
    expect(error.code).toBe('NoPermission.ResourceDirectory.MemberAccount');
    expect(error.statusCode).toBe(409);
  });

  it('answers GetResourceDirectory to a member with the management account’s id', async () => {
    const answer = (await resourceManager(cloud.rootCredentials(B))('GetResourceDirectory', {})) as {
      ResourceDirectory: Record<string, string>;
    };
    expect(answer.ResourceDirectory).toMatchObject({
      MasterAccountId: cloud.identities.accountId,
      ResourceDirectoryId: cloud.readyInfo().resourceDirectoryId,
    });
  });

  it('refuses a PageSize over 100', async () => {
    const error = await failure(resourceManager(cloud.rootCredentials())('ListAccounts', { PageSize: 101 }));
    expect(error.code).toBe('InvalidParameter');
  });

  it('gives the functions and ready.json the Resource Manager endpoint', () => {
    expect(cloud.functionEnv().OSSGUARD_RESOURCEMANAGER_ENDPOINT).toBe(cloud.endpoints.resourcemanager);
    expect(cloud.readyInfo().resourcemanager).toBe(cloud.endpoints.resourcemanager);
  });
});
