import Ram, * as $Ram from '@alicloud/ram20150501';
import Sts, * as $Sts from '@alicloud/sts20150401';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import rolePolicy from '../../deploy/role-policy.json';
import { FUNCTION_ROLE, LocalCloud, MEMBER_ACCOUNTS } from '../../local/cloud';
import type { CloudCredentials } from '../../shared/clients/oss';
import { popConfig } from '../../shared/clients/pop';
import { sdkClient } from '../../shared/clients/ram-sdk';

let cloud: LocalCloud;
let A: string;
const [B, C] = MEMBER_ACCOUNTS.map((a) => a.accountId) as [string, string];

const ramOf = (credentials: CloudCredentials): Ram =>
  sdkClient(Ram, popConfig(credentials, 'ram.aliyuncs.com', 'cn-shanghai', cloud.endpoints.ram));
const stsOf = (credentials: CloudCredentials): Sts =>
  sdkClient(Sts, popConfig(credentials, 'sts.aliyuncs.com', 'cn-hangzhou', cloud.endpoints.sts));

const failure = async (work: Promise<unknown>): Promise<{ code?: string; statusCode?: number }> => {
  try {
    await work;
  } catch (error) {
    return error as { code?: string; statusCode?: number };
  }
  throw new Error('expected the call to fail');
};

const trust = (...principals: string[]) =>
  JSON.stringify({
    Version: '1',
    Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { RAM: principals } }],
  });

/** Creates a role in `accountId` through RAM with that account's root key, with an OSS ACL policy. */
async function memberRole(accountId: string, roleName: string, trustPolicy: string): Promise<void> {
  const ram = ramOf(cloud.rootCredentials(accountId));
  await ram.createRole(
    new $Ram.CreateRoleRequest({ roleName, assumeRolePolicyDocument: trustPolicy, maxSessionDuration: 3600 }),
  );
  await ram.createPolicy(
    new $Ram.CreatePolicyRequest({
      policyName: `${roleName}-acl`,
      policyDocument: JSON.stringify({
        Version: '1',
        Statement: [{ Effect: 'Allow', Action: ['oss:PutBucketAcl', 'oss:GetBucketAcl'], Resource: '*' }],
      }),
    }),
  );
  await ram.attachPolicyToRole(
    new $Ram.AttachPolicyToRoleRequest({ policyType: 'Custom', policyName: `${roleName}-acl`, roleName }),
  );
}

const assume = (caller: CloudCredentials, accountId: string, roleName: string, sessionName = 'ossguard') =>
  stsOf(caller).assumeRole(
    new $Sts.AssumeRoleRequest({
      roleArn: `acs:ram::${accountId}:role/${roleName}`,
      roleSessionName: sessionName,
      durationSeconds: 900,
    }),
  );

let operator: CloudCredentials;

beforeAll(async () => {
  cloud = await LocalCloud.start({ noGuards: true, stateDir: '.ossguard-local/test-sts' });
  A = cloud.identities.accountId;
  operator = cloud.identities.userWithKey('org-operator').key;
  await memberRole(B, 'ossguard-member', trust(`acs:ram::${A}:root`));
  await memberRole(B, 'b-only', trust(`acs:ram::${B}:root`));
  await cloud.accountClient(B).putBucket('member-b-assets');
});
afterAll(() => cloud.stop());

describe('STS AssumeRole across the local accounts', () => {
  it('lets a RAM user of A assume a role in B whose trust policy names A, and change B’s bucket ACL with it', async () => {
    const answer = await assume(operator, B, 'ossguard-member');
    const credentials = answer.body?.credentials;
    expect(credentials?.accessKeyId).toMatch(/^STS\./);
    expect(answer.body?.assumedRoleUser?.arn).toBe(`acs:ram::${B}:role/ossguard-member/ossguard`);
    expect(answer.body?.assumedRoleUser?.assumedRoleId).toMatch(/^\d+:ossguard$/);
    const expires = Date.parse(credentials?.expiration ?? '');
    expect(expires - Date.now()).toBeGreaterThan(800_000);
    expect(expires - Date.now()).toBeLessThanOrEqual(900_000);

    const session = {
      accessKeyId: credentials?.accessKeyId ?? '',
      accessKeySecret: credentials?.accessKeySecret ?? '',
      securityToken: credentials?.securityToken ?? '',
    };
    await cloud.ossClient(session).putBucketACL('member-b-assets', 'public-read');
    expect((await cloud.accountClient(B).getBucketACL('member-b-assets')).acl).toBe('public-read');
    await cloud.ossClient(session).putBucketACL('member-b-assets', 'private');

    const who = await stsOf(session).getCallerIdentity();
    expect(who.body).toMatchObject({
      accountId: B,
      identityType: 'AssumedRoleUser',
      arn: `acs:ram::${B}:role/ossguard-member/ossguard`,
    });
  });

  it('limits the assumed role to what its attached policies allow in B', async () => {
    const credentials = (await assume(operator, B, 'ossguard-member')).body?.credentials;
    const session = {
      accessKeyId: credentials?.accessKeyId ?? '',
      accessKeySecret: credentials?.accessKeySecret ?? '',
      securityToken: credentials?.securityToken ?? '',
    };
    const refused = (await failure(cloud.ossClient(session).deleteBucket('member-b-assets'))) as {
      status?: number;
    };
    expect(refused.status).toBe(403);
  });

  it('refuses a role whose trust policy does not name A', async () => {
    const error = await failure(assume(operator, B, 'b-only'));
    expect(error.code).toBe('NoPermission');
  });

  it('refuses a root account, which may not assume roles', async () => {
    const error = await failure(assume(cloud.rootCredentials(), B, 'ossguard-member'));
    expect(error.code).toBe('NoPermission');
  });

  it('answers EntityNotExist.Role for a role the account does not have, and checks the session name', async () => {
    expect((await failure(assume(operator, C, 'ossguard-member'))).code).toBe('EntityNotExist.Role');
    expect((await failure(assume(operator, B, 'ossguard-member', 'no spaces'))).code).toBe(
      'InvalidParameter.RoleSessionName',
    );
  });

  it('refuses a DurationSeconds beyond the role’s maximum session duration', async () => {
    const error = await failure(
      stsOf(operator).assumeRole(
        new $Sts.AssumeRoleRequest({
          roleArn: `acs:ram::${B}:role/ossguard-member`,
          roleSessionName: 'too-long',
          durationSeconds: 7200,
        }),
      ),
    );
    expect(error.code).toBe('InvalidParameter.DurationSeconds');
  });

  it('tells each caller who it is with GetCallerIdentity', async () => {
    const root = await stsOf(cloud.rootCredentials(C)).getCallerIdentity();
    expect(root.body).toMatchObject({ accountId: C, identityType: 'Account', arn: `acs:ram::${C}:root` });
    const user = await stsOf(operator).getCallerIdentity();
    expect(user.body).toMatchObject({
      accountId: A,
      identityType: 'RAMUser',
      arn: `acs:ram::${A}:user/org-operator`,
    });
  });

  it("refuses ossguard's function role in A until its own policy allows sts:AssumeRole on the member role", async () => {
    const fn = cloud.functionCredentials('oss-acl-guard');
    const error = await failure(assume(fn, B, 'ossguard-member'));
    expect(error.code).toBe('NoPermission');
  });

  it('shows the STS endpoint beside the others, and to the functions', () => {
    expect(cloud.readyInfo().sts).toBe(cloud.endpoints.sts);
    expect(cloud.functionEnv().OSSGUARD_STS_ENDPOINT).toBe(cloud.endpoints.sts);
  });
});

describe("ossguard's function role with sts:AssumeRole in its policy", () => {
  it('assumes a member role that trusts the function role by its ARN', async () => {
    const policy = JSON.parse(JSON.stringify(rolePolicy)) as { Statement: unknown[] };
    policy.Statement.push({
      Effect: 'Allow',
      Action: 'sts:AssumeRole',
      Resource: 'acs:ram::*:role/ossguard-member',
    });
    const withSts = await LocalCloud.start({
      noGuards: true,
      rolePolicy: JSON.stringify(policy),
      stateDir: '.ossguard-local/test-sts-fn',
    });
    try {
      const home = withSts.identities.accountId;
      const ram = sdkClient(
        Ram,
        popConfig(withSts.rootCredentials(B), 'ram.aliyuncs.com', 'cn-shanghai', withSts.endpoints.ram),
      );
      await ram.createRole(
        new $Ram.CreateRoleRequest({
          roleName: 'ossguard-member',
          assumeRolePolicyDocument: trust(`acs:ram::${home}:role/${FUNCTION_ROLE}`),
        }),
      );
      const sts = sdkClient(
        Sts,
        popConfig(
          withSts.functionCredentials('oss-acl-guard'),
          'sts.aliyuncs.com',
          'cn-hangzhou',
          withSts.endpoints.sts,
        ),
      );
      const answer = await sts.assumeRole(
        new $Sts.AssumeRoleRequest({
          roleArn: `acs:ram::${B}:role/ossguard-member`,
          roleSessionName: 'ossguard',
        }),
      );
      expect(answer.body?.assumedRoleUser?.arn).toBe(`acs:ram::${B}:role/ossguard-member/ossguard`);
    } finally {
      await withSts.stop();
    }
  });
});
