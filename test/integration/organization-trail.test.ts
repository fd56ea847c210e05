import Ram, * as $Ram from '@alicloud/ram20150501';
import Sts, * as $Sts from '@alicloud/sts20150401';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalCloud, MEMBER_ACCOUNTS, TRAIL_PROJECT } from '../../local/cloud';
import { cursorAt } from '../../local/sls/store';
import { CallLog } from '../../shared/clients/calllog';
import type { CloudCredentials } from '../../shared/clients/oss';
import { popConfig } from '../../shared/clients/pop';
import { sdkClient } from '../../shared/clients/ram-sdk';
import { rpcCaller } from '../../shared/clients/rpc-call';
import { createSlsApi, pullRange } from '../../shared/clients/sls';

let cloud: LocalCloud;
let A: string;
const [B, C] = MEMBER_ACCOUNTS.map((a) => a.accountId) as [string, string];
const ORG_TRAIL = 'org-trail';

const actiontrail = (credentials: CloudCredentials) =>
  rpcCaller(
    credentials,
    { version: '2020-07-06', host: 'actiontrail.cn-hangzhou.aliyuncs.com', region: 'cn-hangzhou' },
    cloud.endpoints.actiontrail,
  );

const failure = async (work: Promise<unknown>): Promise<{ code?: string }> => {
  try {
    await work;
  } catch (error) {
    return error as { code?: string };
  }
  throw new Error('expected the call to fail');
};

type Record_ = {
  eventName: string;
  recipientAccountId?: string;
  userIdentity: { accountId?: string; type?: string; userName?: string };
  requestParameters: { bucketName?: string; objectKey?: string };
};

/** Every record in a logstore of A's trail project, read with PullLogs as A's root. */
async function trailRecords(logstore: string): Promise<Record_[]> {
  const logs = await pullRange(
    createSlsApi(cloud.rootCredentials(), cloud.endpoints.sls),
    {
      project: TRAIL_PROJECT,
      logstore,
      shardId: 0,
      cursor: cursorAt(0),
      endCursor: cloud.sls.store.endCursor(TRAIL_PROJECT, logstore, 0),
    },
    new CallLog(),
  );
  return logs.map((log) => JSON.parse(log.event ?? '{}') as Record_);
}

const onBucket = (records: Record_[], eventName: string, bucket: string) =>
  records.filter((r) => r.eventName === eventName && r.requestParameters.bucketName === bucket);

beforeAll(async () => {
  cloud = await LocalCloud.start({ noGuards: true, stateDir: '.ossguard-local/test-org-trail' });
  A = cloud.identities.accountId;
  const api = actiontrail(cloud.rootCredentials());
  await api('CreateTrail', {
    Name: ORG_TRAIL,
    SlsProjectArn: `acs:log:cn-hangzhou:${A}:project/${TRAIL_PROJECT}`,
    EventRW: 'All',
    TrailRegion: 'All',
    IsOrganizationTrail: true,
  });
  await api('StartLogging', { Name: ORG_TRAIL });
  await api('PutDataEventSelector', {
    TrailName: ORG_TRAIL,
    EventSelectors: JSON.stringify([{ ServiceName: 'Oss', ReadWriteType: 'All' }]),
    IsTrailAllRegion: true,
  });
});
afterAll(() => cloud.stop());

describe('the organization trail of the local Resource Directory', () => {
  it("delivers member B's bucket made public by B's key to A's logstore, with recipientAccountId B", async () => {
    await cloud.accountClient(B).putBucket('b-made-public');
    await cloud.accountClient(B).putBucketACL('b-made-public', 'public-read');
    const [record] = onBucket(
      await trailRecords(`actiontrail_${ORG_TRAIL}`),
      'PutBucketAcl',
      'b-made-public',
    );
    expect(record?.recipientAccountId).toBe(B);
    expect(record?.userIdentity.accountId).toBe(B);
    // A's own single-account trail takes none of B's records.
    expect(onBucket(await trailRecords('actiontrail_ossguard'), 'PutBucketAcl', 'b-made-public')).toEqual([]);
  });

  it("names the caller's account apart from the owner's when C reads B's public object", async () => {
    const owner = cloud.accountClient(B, 'b-public-site');
    await cloud.accountClient(B).putBucket('b-public-site');
    await owner.put('index.html', Buffer.from('hello'));
    await cloud.accountClient(B).putBucketACL('b-public-site', 'public-read');
    await cloud.accountClient(C, 'b-public-site').get('index.html');
    const read = (await trailRecords(`actiontrail_${ORG_TRAIL}`)).find(
      (r) => r.eventName === 'GetObject' && r.userIdentity.accountId === C,
    );
    expect(read?.recipientAccountId).toBe(B);
  });

  it("records A's change through a role assumed in B as B's, by an assumed-role caller with its session name", async () => {
    const ramB = sdkClient(
      Ram,
      popConfig(cloud.rootCredentials(B), 'ram.aliyuncs.com', 'cn-shanghai', cloud.endpoints.ram),
    );
    await ramB.createRole(
      new $Ram.CreateRoleRequest({
        roleName: 'ossguard-member',
        assumeRolePolicyDocument: JSON.stringify({
          Version: '1',
          Statement: [
            { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { RAM: [`acs:ram::${A}:root`] } },
          ],
        }),
      }),
    );
    await ramB.attachPolicyToRole(
      new $Ram.AttachPolicyToRoleRequest({
        policyType: 'System',
        policyName: 'AdministratorAccess',
        roleName: 'ossguard-member',
      }),
    );
    const { key } = cloud.identities.userWithKey('org-remediator');
    const sts = sdkClient(Sts, popConfig(key, 'sts.aliyuncs.com', 'cn-hangzhou', cloud.endpoints.sts));
    const assumed = await sts.assumeRole(
      new $Sts.AssumeRoleRequest({
        roleArn: `acs:ram::${B}:role/ossguard-member`,
        roleSessionName: 'revert-1',
      }),
    );
    const credentials = assumed.body?.credentials;
    await cloud
      .ossClient({
        accessKeyId: credentials?.accessKeyId ?? '',
        accessKeySecret: credentials?.accessKeySecret ?? '',
        securityToken: credentials?.securityToken ?? '',
      })
      .putBucketACL('b-made-public', 'private');
    const reverts = onBucket(await trailRecords(`actiontrail_${ORG_TRAIL}`), 'PutBucketAcl', 'b-made-public');
    expect(reverts.at(-1)).toMatchObject({
      recipientAccountId: B,
      userIdentity: { accountId: B, type: 'assumed-role', userName: 'ossguard-member:revert-1' },
    });
  });

  it("keeps each account's LookupEvents history to its own resources", async () => {
    const lookup = (credentials: CloudCredentials) =>
      actiontrail(credentials)('LookupEvents', {
        LookupAttribute: [{ Key: 'ResourceName', Value: 'b-made-public' }],
      }) as Promise<{ Events?: unknown[] }>;
    expect((await lookup(cloud.rootCredentials(B))).Events?.length).toBeGreaterThan(0);
    expect((await lookup(cloud.rootCredentials())).Events ?? []).toEqual([]);
  });

  it('shows the multi-account trail in DescribeTrails only with IncludeOrganizationTrail', async () => {
    const api = actiontrail(cloud.rootCredentials());
    const plain = (await api('DescribeTrails', {})) as { TrailList: Array<{ Name: string }> };
    expect(plain.TrailList.map((t) => t.Name)).not.toContain(ORG_TRAIL);
    const all = (await api('DescribeTrails', { IncludeOrganizationTrail: true })) as {
      TrailList: Array<{ Name: string; IsOrganizationTrail: boolean; OrganizationId?: string }>;
    };
    expect(all.TrailList.find((t) => t.Name === ORG_TRAIL)).toMatchObject({
      IsOrganizationTrail: true,
      OrganizationId: cloud.readyInfo().resourceDirectoryId,
    });
  });

  it('refuses a multi-account trail to a member, and a second one to the management account', async () => {
    const member = await failure(
      actiontrail(cloud.rootCredentials(C))('CreateTrail', {
        Name: 'c-org-trail',
        SlsProjectArn: `acs:log:cn-hangzhou:${C}:project/anything`,
        IsOrganizationTrail: true,
      }),
    );
    expect(member.code).toBe('NoPermission');
    const second = await failure(
      actiontrail(cloud.rootCredentials())('CreateTrail', {
        Name: 'org-trail-two',
        SlsProjectArn: `acs:log:cn-hangzhou:${A}:project/${TRAIL_PROJECT}`,
        IsOrganizationTrail: true,
      }),
    );
    expect(second.code).toBe('TrailAlreadyExistsException');
  });
});

describe('a local cloud provisioned with the organization trail as its feed', () => {
  it("takes member B's object write into the feed's logstore, with recipientAccountId B", async () => {
    const org = await LocalCloud.start({
      noGuards: true,
      organizationTrail: true,
      stateDir: '.ossguard-local/test-org-feed',
    });
    try {
      await org.accountClient(B).putBucket('b-feed');
      await org.accountClient(B, 'b-feed').put('note.txt', Buffer.from('x'));
      const event = org
        .trailDataEvents()
        .find(
          (e) => e.record.eventName === 'PutObject' && e.record.requestParameters.bucketName === 'b-feed',
        );
      expect(event?.record).toMatchObject({ recipientAccountId: B, userIdentity: { accountId: B } });
      const trails = org.trails.trails;
      expect(trails.get('ossguard')?.isOrganizationTrail).toBe(true);
    } finally {
      await org.stop();
    }
  });
});
