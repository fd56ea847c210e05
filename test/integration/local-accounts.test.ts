import FC, * as $FC from '@alicloud/fc20230330';
import Ram, * as $Ram from '@alicloud/ram20150501';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalCloud, MEMBER_ACCOUNTS, TRAIL_LOGSTORE, TRAIL_PROJECT } from '../../local/cloud';
import { cursorAt } from '../../local/sls/store';
import type { CloudCredentials } from '../../shared/clients/oss';
import { popConfig } from '../../shared/clients/pop';
import { sdkClient } from '../../shared/clients/ram-sdk';
import { createSlsApi } from '../../shared/clients/sls';

let cloud: LocalCloud;
const [B, C] = MEMBER_ACCOUNTS.map((a) => a.accountId) as [string, string];

const ramOf = (credentials: CloudCredentials): Ram =>
  sdkClient(Ram, popConfig(credentials, 'ram.aliyuncs.com', 'cn-shanghai', cloud.endpoints.ram));

const errorOf = async (
  work: Promise<unknown>,
): Promise<{ code?: string; status?: number; name?: string }> => {
  try {
    await work;
  } catch (error) {
    return error as { code?: string; status?: number };
  }
  throw new Error('expected the call to fail');
};

beforeAll(async () => {
  cloud = await LocalCloud.start({ noGuards: true, stateDir: '.ossguard-local/test-accounts' });
});
afterAll(() => cloud.stop());

describe('the local cloud with several accounts', () => {
  it('keeps account A as the default and adds members B and C, each with its own root key', () => {
    expect(cloud.accounts.map((a) => a.accountId)).toEqual([cloud.identities.accountId, B, C]);
    expect(cloud.identities.accountId).toBe('1234567890123456');
    const keys = cloud.accounts.map((a) => cloud.rootCredentials(a.accountId).accessKeyId);
    expect(new Set(keys).size).toBe(3);
    expect(cloud.rootCredentials().accessKeyId).toBe(cloud.identities.rootKey.accessKeyId);
  });

  it('lists in ListBuckets only the buckets of the account whose key signed it', async () => {
    await cloud.accountClient(B).putBucket('member-b-data');
    // ali-oss types the answer as the array; it resolves to `{buckets, owner, …}`.
    const names = async (accountId: string) => {
      const listed = (await cloud.accountClient(accountId).listBuckets({})) as unknown as {
        buckets: Array<{ name: string }> | null;
      };
      return (listed.buckets ?? []).map((b) => b.name);
    };
    expect(await names(B)).toEqual(['member-b-data']);
    expect(await names(cloud.identities.accountId)).not.toContain('member-b-data');
    expect(cloud.oss.ownerOf('member-b-data')).toBe(B);
  });

  it('refuses another account the bucket name an account already owns', async () => {
    await cloud.accountClient(B).putBucket('member-b-taken');
    const error = await errorOf(cloud.adminClient().putBucket('member-b-taken'));
    expect(error.status).toBe(409);
    expect(error.name).toBe('BucketAlreadyExistsError');
  });

  it("refuses account A's root key a change to member B's private bucket", async () => {
    await cloud.accountClient(B).putBucket('member-b-private');
    const error = await errorOf(cloud.adminClient().putBucketACL('member-b-private', 'public-read'));
    expect(error.status).toBe(403);
    expect((await cloud.accountClient(B).getBucketACL('member-b-private')).acl).toBe('private');
  });

  it('lets another account read an object of a public-read bucket, as anyone could', async () => {
    const owner = cloud.accountClient(B, 'member-b-website');
    await cloud.accountClient(B).putBucket('member-b-website');
    await owner.put('index.html', Buffer.from('hi'));
    await cloud.accountClient(B).putBucketACL('member-b-website', 'public-read');
    const read = await cloud.accountClient(C, 'member-b-website').get('index.html');
    expect(read.content.toString()).toBe('hi');
  });

  it("keeps RAM users apart: a user created with B's key is in B, not in A", async () => {
    await ramOf(cloud.rootCredentials(B)).createUser(new $Ram.CreateUserRequest({ userName: 'b-operator' }));
    expect(cloud.account(B).identities.users.has('b-operator')).toBe(true);
    expect(cloud.identities.users.has('b-operator')).toBe(false);
    const inA = await ramOf(cloud.rootCredentials()).listUsers(new $Ram.ListUsersRequest({}));
    expect(inA.body?.users?.user?.map((u) => u.userName)).not.toContain('b-operator');
    const error = await errorOf(
      ramOf(cloud.rootCredentials()).getUser(new $Ram.GetUserRequest({ userName: 'b-operator' })),
    );
    expect(error.code).toBe('EntityNotExist.User');
  });

  it("lets a member's RAM user key sign OSS requests in that member", async () => {
    const { key } = cloud.account(C).identities.userWithKey('c-writer');
    await cloud.ossClient(key).putBucket('member-c-logs');
    expect(cloud.oss.ownerOf('member-c-logs')).toBe(C);
  });

  it("shows a member's key no function of account A's FC", async () => {
    const fcOf = (accountId: string) =>
      sdkClient(
        FC,
        popConfig(
          cloud.rootCredentials(accountId),
          'fcv3.cn-hangzhou.aliyuncs.com',
          'cn-hangzhou',
          cloud.endpoints.fc,
        ),
      );
    // A's own functions are read by the doctor and verify tests; a member's FC has none of them.
    const name = 'oss-acl-guard';
    const error = await errorOf(fcOf(B).getFunction(name, new $FC.GetFunctionRequest({})));
    expect(error.code).toBe('FunctionNotFound');
  });

  it("refuses a member's key the trail logstore of account A", async () => {
    const logs = createSlsApi(cloud.rootCredentials(B), cloud.endpoints.sls).pullLogs(
      {
        project: TRAIL_PROJECT,
        logstore: TRAIL_LOGSTORE,
        shardId: 0,
        cursor: cursorAt(0),
        endCursor: cloud.sls.store.endCursor(TRAIL_PROJECT, TRAIL_LOGSTORE, 0),
      },
      10,
    );
    expect((await errorOf(logs)).code).toBe('Unauthorized');
  });

  it('names every account with its root key in what `ossguard local` writes to ready.json', () => {
    const info = cloud.readyInfo();
    expect(info.accountId).toBe(cloud.identities.accountId);
    expect(info.accounts.map((a) => [a.accountId, a.role])).toEqual([
      [cloud.identities.accountId, 'management'],
      [B, 'member'],
      [C, 'member'],
    ]);
    expect(info.accounts[1]?.accessKeyId).toBe(cloud.rootCredentials(B).accessKeyId);
  });
});
