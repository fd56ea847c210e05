import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import Ims, * as $Ims from '@alicloud/ims20190815';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import Ram, * as $Ram from '@alicloud/ram20150501';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canonicalRequest, sha256Hex, signature, stringToSign } from '../../local/acs/signature';
import { IdentityStore } from '../../local/identity';
import { userPrincipalName } from '../../local/ram/apis';
import { RamEmulator, type RamEmulatorOptions } from '../../local/ram/emulator';
import type { CloudEvent } from '../../shared/events/actiontrail-event';

interface Credentials {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
}

let identities: IdentityStore;
let events: CloudEvent[];
let emulator: RamEmulator;
let endpoint: string;

async function start(options: Partial<RamEmulatorOptions> = {}): Promise<void> {
  await emulator?.close();
  emulator = new RamEmulator({ identities, events: { publish: (e) => events.push(e) }, ...options });
  endpoint = await emulator.listen();
}

beforeEach(async () => {
  identities = new IdentityStore();
  events = [];
  await start();
});

afterEach(async () => {
  await emulator.close();
});

/** The SDK configuration of the project's RAM clients, pointed at the emulator (actiontrail-events.md Addendum). */
const config = (c: Credentials) =>
  new $OpenApiUtil.Config({
    accessKeyId: c.accessKeyId,
    accessKeySecret: c.accessKeySecret,
    ...(c.securityToken ? { securityToken: c.securityToken } : {}),
    endpoint: new URL(endpoint).host,
    protocol: 'http',
    regionId: 'cn-shanghai',
  });

const ram = (c: Credentials = identities.rootKey) => new Ram(config(c));
const ims = (c: Credentials = identities.rootKey) => new Ims(config(c));

const upn = (userName: string) => userPrincipalName(identities, userName);

describe('RAM emulator: users, keys and login profiles', () => {
  it('creates a user, reads it back and refuses a second user of the same name', async () => {
    // Every character the query encodings of client and spec could disagree on.
    const displayName = "Alice (ops)* !~'+é";
    const created = await ram().createUser(new $Ram.CreateUserRequest({ userName: 'alice', displayName }));
    expect(created.body?.user).toMatchObject({ userName: 'alice', displayName });
    expect(created.body?.requestId).toMatch(/^[0-9A-F-]{36}$/);

    const read = await ram().getUser(new $Ram.GetUserRequest({ userName: 'alice' }));
    expect(read.body?.user?.userId).toBe(created.body?.user?.userId);
    expect(read.body?.user?.createDate).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);

    await expect(ram().createUser(new $Ram.CreateUserRequest({ userName: 'alice' }))).rejects.toMatchObject({
      code: 'EntityAlreadyExists.User',
      statusCode: 409,
    });
  });

  it('answers EntityNotExist.User for a user that does not exist', async () => {
    await expect(ram().getUser(new $Ram.GetUserRequest({ userName: 'nobody' }))).rejects.toMatchObject({
      code: 'EntityNotExist.User',
      statusCode: 404,
      data: { Code: 'EntityNotExist.User', HostId: 'ram.aliyuncs.com' },
    });
  });

  it('refuses a user name with characters RAM does not allow', async () => {
    await expect(ram().createUser(new $Ram.CreateUserRequest({ userName: 'a b' }))).rejects.toMatchObject({
      code: 'InvalidParameter.UserName.InvalidChars',
    });
  });

  it('creates an AccessKey that signs requests at once, and stops it when disabled and when deleted', async () => {
    identities.createUser('alice');
    const created = await ram().createAccessKey(new $Ram.CreateAccessKeyRequest({ userName: 'alice' }));
    const key = created.body?.accessKey;
    expect(key).toMatchObject({ status: 'Active', accessKeyId: expect.stringMatching(/^LTAI/) });
    const aliceCreds = { accessKeyId: key?.accessKeyId ?? '', accessKeySecret: key?.accessKeySecret ?? '' };

    const own = await ram(aliceCreds).listAccessKeys(new $Ram.ListAccessKeysRequest({}));
    expect(own.body?.accessKeys?.accessKey?.map((k) => k.accessKeyId)).toEqual([key?.accessKeyId]);

    await ram().updateAccessKey(
      new $Ram.UpdateAccessKeyRequest({
        userName: 'alice',
        userAccessKeyId: key?.accessKeyId,
        status: 'Inactive',
      }),
    );
    const listed = await ram().listAccessKeys(new $Ram.ListAccessKeysRequest({ userName: 'alice' }));
    expect(listed.body?.accessKeys?.accessKey).toEqual([expect.objectContaining({ status: 'Inactive' })]);
    await expect(ram(aliceCreds).listAccessKeys(new $Ram.ListAccessKeysRequest({}))).rejects.toMatchObject({
      code: 'InvalidAccessKeyId.Inactive',
      statusCode: 400,
    });

    await ram().deleteAccessKey(
      new $Ram.DeleteAccessKeyRequest({ userName: 'alice', userAccessKeyId: key?.accessKeyId }),
    );
    const after = await ram().listAccessKeys(new $Ram.ListAccessKeysRequest({ userName: 'alice' }));
    expect(after.body?.accessKeys?.accessKey).toEqual([]);
    await expect(ram(aliceCreds).listAccessKeys(new $Ram.ListAccessKeysRequest({}))).rejects.toMatchObject({
      code: 'InvalidAccessKeyId.NotFound',
      statusCode: 404,
    });
  });

  it('refuses a third AccessKey for one user', async () => {
    identities.createUser('alice');
    const create = () => ram().createAccessKey(new $Ram.CreateAccessKeyRequest({ userName: 'alice' }));
    await create();
    await create();
    await expect(create()).rejects.toMatchObject({ code: 'LimitExceeded.User.AccessKey', statusCode: 409 });
  });

  it('refuses to update a key the named user does not own', async () => {
    identities.createUser('alice');
    const { key } = identities.userWithKey('bob');
    const update = new $Ram.UpdateAccessKeyRequest({
      userName: 'alice',
      userAccessKeyId: key.accessKeyId,
      status: 'Inactive',
    });
    await expect(ram().updateAccessKey(update)).rejects.toMatchObject({
      code: 'EntityNotExist.User.AccessKey',
    });
    expect(key.status).toBe('Active');
  });

  it('answers EntityNotExist.User.LoginProfile until a login profile exists, then refuses a second one', async () => {
    identities.createUser('alice');
    const get = () => ram().getLoginProfile(new $Ram.GetLoginProfileRequest({ userName: 'alice' }));
    await expect(get()).rejects.toMatchObject({ code: 'EntityNotExist.User.LoginProfile', statusCode: 404 });

    const profile = new $Ram.CreateLoginProfileRequest({
      userName: 'alice',
      password: 'fake-Passw0rd!',
      MFABindRequired: true,
    });
    await ram().createLoginProfile(profile);
    expect((await get()).body?.loginProfile).toMatchObject({ userName: 'alice', MFABindRequired: true });
    await expect(ram().createLoginProfile(profile)).rejects.toMatchObject({
      code: 'EntityAlreadyExists.User.LoginProfile',
    });
  });

  it('deletes a user only once it has no keys left', async () => {
    const { key } = identities.userWithKey('alice');
    const remove = () => ram().deleteUser(new $Ram.DeleteUserRequest({ userName: 'alice' }));
    await expect(remove()).rejects.toMatchObject({ code: 'DeleteConflict.User.AccessKey', statusCode: 409 });
    await ram().deleteAccessKey(
      new $Ram.DeleteAccessKeyRequest({ userName: 'alice', userAccessKeyId: key.accessKeyId }),
    );
    await remove();
    expect(identities.users.has('alice')).toBe(false);
  });
});

describe('RAM emulator: roles and policies for bootstrap', () => {
  const trust = JSON.stringify({
    Version: '1',
    Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: ['fc.aliyuncs.com'] } }],
  });
  const policy = (action: string) =>
    JSON.stringify({ Version: '1', Statement: [{ Effect: 'Allow', Action: [action], Resource: ['*'] }] });

  it('creates a role once, reads and updates it, and refuses to create it again', async () => {
    const created = await ram().createRole(
      new $Ram.CreateRoleRequest({
        roleName: 'OssGuardFn',
        assumeRolePolicyDocument: trust,
        description: 'guard',
      }),
    );
    expect(created.body?.role).toMatchObject({
      roleName: 'OssGuardFn',
      arn: `acs:ram::${identities.accountId}:role/ossguardfn`,
      maxSessionDuration: 3600,
    });
    await expect(
      ram().createRole(
        new $Ram.CreateRoleRequest({ roleName: 'OssGuardFn', assumeRolePolicyDocument: trust }),
      ),
    ).rejects.toMatchObject({ code: 'EntityAlreadyExists.Role', statusCode: 409 });

    await ram().updateRole(
      new $Ram.UpdateRoleRequest({ roleName: 'OssGuardFn', newDescription: 'guard v2' }),
    );
    const read = await ram().getRole(new $Ram.GetRoleRequest({ roleName: 'OssGuardFn' }));
    expect(read.body?.role).toMatchObject({ description: 'guard v2', assumeRolePolicyDocument: trust });
    expect(identities.roles.get('OssGuardFn')?.roleId).toBe(read.body?.role?.roleId);
  });

  it('answers EntityNotExist.Role for a role that does not exist', async () => {
    await expect(ram().getRole(new $Ram.GetRoleRequest({ roleName: 'Nope' }))).rejects.toMatchObject({
      code: 'EntityNotExist.Role',
    });
  });

  it('keeps policy versions, and attaches a policy to a role only once', async () => {
    await ram().createRole(
      new $Ram.CreateRoleRequest({ roleName: 'OssGuardFn', assumeRolePolicyDocument: trust }),
    );
    await ram().createPolicy(
      new $Ram.CreatePolicyRequest({ policyName: 'ossguard', policyDocument: policy('oss:GetBucketAcl') }),
    );
    const v2 = await ram().createPolicyVersion(
      new $Ram.CreatePolicyVersionRequest({
        policyName: 'ossguard',
        policyDocument: policy('oss:PutBucketAcl'),
        setAsDefault: true,
      }),
    );
    expect(v2.body?.policyVersion).toMatchObject({ versionId: 'v2', isDefaultVersion: true });

    const read = await ram().getPolicy(
      new $Ram.GetPolicyRequest({ policyName: 'ossguard', policyType: 'Custom' }),
    );
    expect(read.body?.policy).toMatchObject({
      defaultVersion: 'v2',
      policyDocument: policy('oss:PutBucketAcl'),
    });
    const v1 = await ram().getPolicyVersion(
      new $Ram.GetPolicyVersionRequest({ policyName: 'ossguard', policyType: 'Custom', versionId: 'v1' }),
    );
    expect(v1.body?.policyVersion).toMatchObject({
      isDefaultVersion: false,
      policyDocument: policy('oss:GetBucketAcl'),
    });

    const attach = () =>
      ram().attachPolicyToRole(
        new $Ram.AttachPolicyToRoleRequest({
          roleName: 'OssGuardFn',
          policyName: 'ossguard',
          policyType: 'Custom',
        }),
      );
    await attach();
    await expect(attach()).rejects.toMatchObject({ code: 'EntityAlreadyExists.Role.Policy' });
    const attached = await ram().listPoliciesForRole(
      new $Ram.ListPoliciesForRoleRequest({ roleName: 'OssGuardFn' }),
    );
    expect(attached.body?.policies?.policy).toEqual([
      expect.objectContaining({ policyName: 'ossguard', policyType: 'Custom', defaultVersion: 'v2' }),
    ]);
  });

  it('refuses a policy document that is not JSON', async () => {
    await expect(
      ram().createPolicy(new $Ram.CreatePolicyRequest({ policyName: 'broken', policyDocument: '{nope' })),
    ).rejects.toMatchObject({ code: 'MalformedPolicyDocument', statusCode: 400 });
  });
});

describe('RAM emulator: groups, and who holds a policy', () => {
  const system = { policyType: 'System', policyName: 'AliyunOSSFullAccess' };

  it('creates a group once, adds a user once, lists the groups of the user, and refuses a group name RAM does not allow', async () => {
    identities.createUser('gale');
    const created = await ram().createGroup(
      new $Ram.CreateGroupRequest({ groupName: 'devs', comments: 'dev' }),
    );
    expect(created.body?.group).toMatchObject({ groupName: 'devs', comments: 'dev' });
    await expect(ram().createGroup(new $Ram.CreateGroupRequest({ groupName: 'devs' }))).rejects.toMatchObject(
      {
        code: 'EntityAlreadyExists.Group',
        statusCode: 409,
      },
    );
    await expect(
      ram().createGroup(new $Ram.CreateGroupRequest({ groupName: 'dev_ops' })),
    ).rejects.toMatchObject({
      code: 'InvalidParameter.GroupName.InvalidChars',
      statusCode: 400,
    });
    const add = () =>
      ram().addUserToGroup(new $Ram.AddUserToGroupRequest({ groupName: 'devs', userName: 'gale' }));
    await add();
    await expect(add()).rejects.toMatchObject({ code: 'EntityAlreadyExists.User.Group', statusCode: 409 });
    await expect(
      ram().addUserToGroup(new $Ram.AddUserToGroupRequest({ groupName: 'nope', userName: 'gale' })),
    ).rejects.toMatchObject({ code: 'EntityNotExist.Group', statusCode: 404 });
    const groups = await ram().listGroupsForUser(new $Ram.ListGroupsForUserRequest({ userName: 'gale' }));
    expect(groups.body?.groups?.group?.map((g) => [g.groupName, typeof g.joinDate])).toEqual([
      ['devs', 'string'],
    ]);
    await expect(
      ram().listGroupsForUser(new $Ram.ListGroupsForUserRequest({ userName: 'nobody' })),
    ).rejects.toMatchObject({ code: 'EntityNotExist.User', statusCode: 404 });
  });

  it('attaches a policy to a group once, lists the user, group and role holding it, and detaches it once', async () => {
    identities.createUser('gale');
    await ram().createGroup(new $Ram.CreateGroupRequest({ groupName: 'devs' }));
    await ram().createRole(
      new $Ram.CreateRoleRequest({
        roleName: 'app',
        assumeRolePolicyDocument: JSON.stringify({
          Version: '1',
          Statement: [
            { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: ['ecs.aliyuncs.com'] } },
          ],
        }),
      }),
    );
    const toGroup = () =>
      ram().attachPolicyToGroup(new $Ram.AttachPolicyToGroupRequest({ ...system, groupName: 'devs' }));
    await toGroup();
    await expect(toGroup()).rejects.toMatchObject({
      code: 'EntityAlreadyExists.Group.Policy',
      statusCode: 409,
    });
    await ram().attachPolicyToUser(new $Ram.AttachPolicyToUserRequest({ ...system, userName: 'gale' }));
    await ram().attachPolicyToRole(new $Ram.AttachPolicyToRoleRequest({ ...system, roleName: 'app' }));
    const listed = await ram().listPoliciesForGroup(
      new $Ram.ListPoliciesForGroupRequest({ groupName: 'devs' }),
    );
    expect(listed.body?.policies?.policy?.map((p) => p.policyName)).toEqual(['AliyunOSSFullAccess']);

    const holders = async () =>
      (await ram().listEntitiesForPolicy(new $Ram.ListEntitiesForPolicyRequest(system))).body;
    expect(await holders()).toMatchObject({
      users: { user: [expect.objectContaining({ userName: 'gale' })] },
      groups: { group: [expect.objectContaining({ groupName: 'devs' })] },
      roles: {
        role: [
          expect.objectContaining({ roleName: 'app', arn: `acs:ram::${identities.accountId}:role/app` }),
        ],
      },
    });

    const fromGroup = () =>
      ram().detachPolicyFromGroup(new $Ram.DetachPolicyFromGroupRequest({ ...system, groupName: 'devs' }));
    await fromGroup();
    await expect(fromGroup()).rejects.toMatchObject({ code: 'EntityNotExist.Group.Policy', statusCode: 404 });
    await ram().detachPolicyFromRole(new $Ram.DetachPolicyFromRoleRequest({ ...system, roleName: 'app' }));
    expect((await holders())?.groups?.group).toEqual([]);
    expect((await holders())?.roles?.role).toEqual([]);
  });

  it('counts every user, group and role a custom policy is attached to', async () => {
    identities.createUser('gale');
    await ram().createGroup(new $Ram.CreateGroupRequest({ groupName: 'devs' }));
    await ram().createPolicy(
      new $Ram.CreatePolicyRequest({
        policyName: 'reader',
        policyDocument: JSON.stringify({ Version: '1', Statement: [] }),
      }),
    );
    const custom = { policyType: 'Custom', policyName: 'reader' };
    await ram().attachPolicyToUser(new $Ram.AttachPolicyToUserRequest({ ...custom, userName: 'gale' }));
    await ram().attachPolicyToGroup(new $Ram.AttachPolicyToGroupRequest({ ...custom, groupName: 'devs' }));
    const read = await ram().getPolicy(new $Ram.GetPolicyRequest(custom));
    expect(read.body?.policy?.attachmentCount).toBe(2);
  });
});

describe('RAM emulator: request authentication', () => {
  const anyCall = (c: Credentials) => ram(c).listAccessKeys(new $Ram.ListAccessKeysRequest({}));

  it('refuses a wrong secret with SignatureDoesNotMatch', async () => {
    const { key } = identities.userWithKey('alice');
    await expect(
      anyCall({ accessKeyId: key.accessKeyId, accessKeySecret: 'fake-wrong-secret' }),
    ).rejects.toMatchObject({
      code: 'SignatureDoesNotMatch',
      statusCode: 400,
    });
  });

  it('refuses an unknown AccessKey with InvalidAccessKeyId.NotFound', async () => {
    await expect(anyCall({ accessKeyId: 'LTAIfake0000', accessKeySecret: 'fake' })).rejects.toMatchObject({
      code: 'InvalidAccessKeyId.NotFound',
      statusCode: 404,
    });
  });

  it('accepts an STS session with its token and refuses it without the token, with another token, or expired', async () => {
    const session = identities.assumeRole('OssGuardFn', 'fn-1');
    const creds = {
      accessKeyId: session.accessKeyId,
      accessKeySecret: session.accessKeySecret,
      securityToken: session.securityToken,
    };
    const { key } = identities.userWithKey('alice');
    await ram(creds).getUser(new $Ram.GetUserRequest({ userName: 'alice' }));

    await expect(anyCall({ ...creds, securityToken: undefined })).rejects.toMatchObject({
      code: 'MissingSecurityToken',
    });
    await expect(anyCall({ ...creds, securityToken: 'CAISfake' })).rejects.toMatchObject({
      code: 'InvalidSecurityToken.MismatchWithAccessKey',
    });
    const expired = identities.assumeRole('OssGuardFn', 'fn-old', -1000);
    await expect(
      ram({
        accessKeyId: expired.accessKeyId,
        accessKeySecret: expired.accessKeySecret,
        securityToken: expired.securityToken,
      }).updateAccessKey(
        new $Ram.UpdateAccessKeyRequest({
          userName: 'alice',
          userAccessKeyId: key.accessKeyId,
          status: 'Inactive',
        }),
      ),
    ).rejects.toMatchObject({ code: 'InvalidSecurityToken.Expired', statusCode: 400 });
    expect(key.status).toBe('Active');
  });

  it('refuses a request dated more than 15 minutes away from the server clock', async () => {
    await start({ clock: () => new Date(Date.now() + 16 * 60_000) });
    await expect(anyCall(identities.rootKey)).rejects.toMatchObject({ code: 'InvalidTimeStamp.Expired' });
  });

  /** A V3 request signed by hand, for what the SDK never sends: replays, tampered bodies, unsigned headers. */
  async function rawCall(options: {
    action?: string;
    body?: string;
    sentBody?: string;
    nonce?: string;
    unsignedHeaders?: Record<string, string>;
  }): Promise<{ status: number; body: Record<string, unknown> }> {
    const body = options.body ?? '';
    const headers: Record<string, string> = {
      host: new URL(endpoint).host,
      'x-acs-action': options.action ?? 'ListAccessKeys',
      'x-acs-version': '2015-05-01',
      'x-acs-date': new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      'x-acs-signature-nonce': options.nonce ?? randomUUID(),
      'x-acs-content-sha256': sha256Hex(body),
      'content-type': 'application/x-www-form-urlencoded',
    };
    const signedHeaders = Object.keys(headers).sort();
    const toSign = stringToSign(
      canonicalRequest({
        method: 'POST',
        path: '/',
        query: [],
        headers,
        signedHeaders,
        hashedPayload: sha256Hex(body),
      }),
    );
    const authorization = `ACS3-HMAC-SHA256 Credential=${identities.rootKey.accessKeyId},SignedHeaders=${signedHeaders.join(';')},Signature=${signature(identities.rootKey.accessKeySecret, toSign)}`;
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        `${endpoint}/`,
        { method: 'POST', headers: { ...headers, ...options.unsignedHeaders, authorization } },
        (res) => {
          let text = '';
          res.on('data', (chunk) => {
            text += chunk;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
        },
      );
      req.on('error', reject);
      req.end(options.sentBody ?? body);
    });
  }

  it('accepts a hand-signed request, and refuses it when replayed with the same nonce', async () => {
    expect((await rawCall({ nonce: 'fake-nonce-1' })).status).toBe(200);
    expect(await rawCall({ nonce: 'fake-nonce-1' })).toMatchObject({
      status: 400,
      body: { Code: 'SignatureNonceUsed' },
    });
  });

  it('refuses a body that is not the one whose hash was signed', async () => {
    const answer = await rawCall({ body: 'UserName=alice', sentBody: 'UserName=mallory' });
    expect(answer.body.Code).toBe('SignatureDoesNotMatch');
  });

  it('refuses x-acs headers left out of SignedHeaders', async () => {
    const answer = await rawCall({ unsignedHeaders: { 'x-acs-security-token': 'CAISfake' } });
    expect(answer.body.Code).toBe('IncompleteSignature');
  });

  it('answers an action it does not implement with InvalidAction.NotFound', async () => {
    const answer = await rawCall({ action: 'ListVirtualMFADevices' });
    expect(answer).toMatchObject({ status: 404, body: { Code: 'InvalidAction.NotFound' } });
  });
});

describe('RAM emulator: ActionTrail events', () => {
  const ofName = (name: string) => events.filter((e) => e.data.eventName === name);

  it('publishes exactly one event per write, attributed to the verified caller, and none for reads', async () => {
    const { key: adminKey } = identities.userWithKey('admin');
    const admin = ram(adminKey);
    await admin.createUser(new $Ram.CreateUserRequest({ userName: 'alice' }));
    await admin.getUser(new $Ram.GetUserRequest({ userName: 'alice' }));
    const created = await admin.createAccessKey(new $Ram.CreateAccessKeyRequest({ userName: 'alice' }));
    await admin.listAccessKeys(new $Ram.ListAccessKeysRequest({ userName: 'alice' }));
    await admin.updateAccessKey(
      new $Ram.UpdateAccessKeyRequest({
        userName: 'alice',
        userAccessKeyId: created.body?.accessKey?.accessKeyId,
        status: 'Inactive',
      }),
    );

    expect(events.map((e) => e.data.eventName)).toEqual(['CreateUser', 'CreateAccessKey', 'UpdateAccessKey']);
    for (const event of events) {
      expect(event).toMatchObject({
        type: 'ram:ActionTrail:ApiCall',
        data: {
          serviceName: 'Ram',
          eventSource: 'ram.aliyuncs.com',
          apiVersion: '2015-05-01',
          acsRegion: 'cn-shanghai',
          isGlobal: true,
          eventRW: 'Write',
          userIdentity: { type: 'ram-user', userName: 'admin', accessKeyId: adminKey.accessKeyId },
        },
      });
    }
    expect(ofName('UpdateAccessKey')[0]?.data).toMatchObject({
      requestParameters: {
        UserName: 'alice',
        UserAccessKeyId: created.body?.accessKey?.accessKeyId,
        Status: 'Inactive',
      },
      referencedResources: {
        'ACS::RAM::User': ['alice'],
        'ACS::RAM::AccessKey': [created.body?.accessKey?.accessKeyId],
      },
    });
  });

  it('records CreateAccessKey with the new key, secret included, in responseElements', async () => {
    identities.createUser('alice');
    const created = await ram().createAccessKey(new $Ram.CreateAccessKeyRequest({ userName: 'alice' }));
    const [event] = ofName('CreateAccessKey');
    expect(event?.data).toMatchObject({
      userIdentity: { type: 'root-account', accessKeyId: identities.rootKey.accessKeyId },
      responseElements: {
        RequestId: created.body?.requestId,
        AccessKey: {
          AccessKeyId: created.body?.accessKey?.accessKeyId,
          AccessKeySecret: created.body?.accessKey?.accessKeySecret,
          Status: 'Active',
        },
      },
      referencedResources: {
        'ACS::RAM::User': ['alice'],
        'ACS::RAM::AccessKey': [created.body?.accessKey?.accessKeyId],
      },
    });
  });

  it('records a refused write once, with its errorCode', async () => {
    const update = new $Ram.UpdateAccessKeyRequest({
      userName: 'ghost',
      userAccessKeyId: 'LTAIfake',
      status: 'Inactive',
    });
    await expect(ram().updateAccessKey(update)).rejects.toMatchObject({ code: 'EntityNotExist.User' });
    expect(events).toHaveLength(1);
    expect(events[0]?.data).toMatchObject({
      eventName: 'UpdateAccessKey',
      errorCode: 'EntityNotExist.User',
      errorMessage: 'The user does not exist.',
      referencedResources: { 'ACS::RAM::User': ['ghost'], 'ACS::RAM::AccessKey': ['LTAIfake'] },
    });
    expect(events[0]?.data.responseElements).toBeUndefined();
  });

  it('publishes nothing for a call refused before authentication', async () => {
    await expect(
      ram({ accessKeyId: identities.rootKey.accessKeyId, accessKeySecret: 'fake-wrong' }).createUser(
        new $Ram.CreateUserRequest({ userName: 'alice' }),
      ),
    ).rejects.toMatchObject({ code: 'SignatureDoesNotMatch' });
    expect(events).toEqual([]);
  });

  it('records the assumed role of an STS caller', async () => {
    const session = identities.assumeRole('OssGuardFn', 'fn-1');
    const { key } = identities.userWithKey('alice');
    await ram({
      accessKeyId: session.accessKeyId,
      accessKeySecret: session.accessKeySecret,
      securityToken: session.securityToken,
    }).updateAccessKey(
      new $Ram.UpdateAccessKeyRequest({
        userName: 'alice',
        userAccessKeyId: key.accessKeyId,
        status: 'Inactive',
      }),
    );
    expect(events[0]?.data.userIdentity).toMatchObject({
      type: 'assumed-role',
      accessKeyId: session.accessKeyId,
      userName: 'OssGuardFn:fn-1',
      principalId: `${session.roleId}:fn-1`,
    });
  });

  it("leaves the password out of CreateLoginProfile's requestParameters", async () => {
    identities.createUser('alice');
    await ram().createLoginProfile(
      new $Ram.CreateLoginProfileRequest({ userName: 'alice', password: 'fake-Passw0rd!' }),
    );
    expect(events[0]?.data.requestParameters).toEqual({ UserName: 'alice' });
  });
});

describe('RAM emulator: IMS', () => {
  it('creates a root key for a root caller that names no user, which then signs and can be disabled', async () => {
    const created = await ims().createAccessKey(new $Ims.CreateAccessKeyRequest({}));
    const key = created.body?.accessKey;
    const rootCreds = { accessKeyId: key?.accessKeyId ?? '', accessKeySecret: key?.accessKeySecret ?? '' };
    expect(identities.rootKeys.map((k) => k.accessKeyId)).toContain(key?.accessKeyId);

    const listed = await ram(rootCreds).listAccessKeys(new $Ram.ListAccessKeysRequest({}));
    expect(listed.body?.accessKeys?.accessKey?.map((k) => k.accessKeyId)).toEqual([
      identities.rootKey.accessKeyId,
      key?.accessKeyId,
    ]);

    await ims().updateAccessKey(
      new $Ims.UpdateAccessKeyRequest({ userAccessKeyId: key?.accessKeyId, status: 'Inactive' }),
    );
    await expect(ram(rootCreds).listAccessKeys(new $Ram.ListAccessKeysRequest({}))).rejects.toMatchObject({
      code: 'InvalidAccessKeyId.Inactive',
    });

    const [create, update] = events;
    expect(create).toMatchObject({
      type: 'ims:ActionTrail:ApiCall',
      data: {
        eventName: 'CreateAccessKey',
        serviceName: 'Ims',
        eventSource: 'ims-share.aliyuncs.com',
        apiVersion: '2019-08-15',
        acsRegion: 'cn-shanghai',
        isGlobal: true,
        userIdentity: { type: 'root-account', accessKeyId: identities.rootKey.accessKeyId },
        requestParameters: {},
        referencedResources: { 'ACS::RAM::AccessKey': [key?.accessKeyId] },
        responseElements: { AccessKey: { AccessKeySecret: key?.accessKeySecret } },
      },
    });
    expect(update?.data).toMatchObject({
      eventName: 'UpdateAccessKey',
      requestParameters: { UserAccessKeyId: key?.accessKeyId, Status: 'Inactive' },
    });
  });

  it("creates a key for a RAM user's own account when the user names nobody", async () => {
    const { key } = identities.userWithKey('alice');
    const created = await ims(key).createAccessKey(new $Ims.CreateAccessKeyRequest({}));
    expect(identities.users.get('alice')?.accessKeys.map((k) => k.accessKeyId)).toContain(
      created.body?.accessKey?.accessKeyId,
    );
    expect(events[0]?.data.referencedResources['ACS::RAM::User']).toEqual([upn('alice')]);
  });

  it('names users by logon name, tags them, and finds a user and its tags by AccessKey ID', async () => {
    await ims().createUser(new $Ims.CreateUserRequest({ userPrincipalName: upn('bob'), displayName: 'Bob' }));
    const created = await ims().createAccessKey(
      new $Ims.CreateAccessKeyRequest({ userPrincipalName: upn('bob') }),
    );
    await ims().tagResources(
      new $Ims.TagResourcesRequest({
        resourceType: 'user',
        resourcePrincipalName: [upn('bob')],
        tag: [new $Ims.TagResourcesRequestTag({ key: 'ossguard-exception', value: 'ci-bot' })],
      }),
    );

    const found = await ims().getUser(
      new $Ims.GetUserRequest({ userAccessKeyId: created.body?.accessKey?.accessKeyId }),
    );
    expect(found.body?.user).toMatchObject({
      userName: 'bob',
      userPrincipalName: upn('bob'),
      displayName: 'Bob',
      tags: { tag: [{ tagKey: 'ossguard-exception', tagValue: 'ci-bot' }] },
    });
    const listed = await ims().listTagResources(
      new $Ims.ListTagResourcesRequest({ resourceType: 'user', resourcePrincipalName: [upn('bob')] }),
    );
    expect(listed.body?.tagResources?.tagResource).toEqual([
      expect.objectContaining({ resourceId: found.body?.user?.userId, tagKey: 'ossguard-exception' }),
    ]);

    expect(events.map((e) => [e.data.eventName, e.data.referencedResources['ACS::RAM::User']])).toEqual([
      ['CreateUser', [upn('bob')]],
      ['CreateAccessKey', [upn('bob')]],
      ['TagResources', [upn('bob')]],
    ]);
  });

  it('answers EntityNotExist.User when no RAM user owns the AccessKey', async () => {
    await expect(
      ims().getUser(new $Ims.GetUserRequest({ userAccessKeyId: identities.rootKey.accessKeyId })),
    ).rejects.toMatchObject({ code: 'EntityNotExist.User', data: { HostId: 'ims.aliyuncs.com' } });
  });

  it('refuses a logon name outside the account domain', async () => {
    await expect(
      ims().createUser(
        new $Ims.CreateUserRequest({ userPrincipalName: 'bob@other.onaliyun.com', displayName: 'Bob' }),
      ),
    ).rejects.toMatchObject({ code: 'InvalidParameter' });
  });

  it('refuses a role session that names no user, as it owns no keys', async () => {
    const session = identities.assumeRole('OssGuardFn', 'fn-1');
    await expect(
      ims({
        accessKeyId: session.accessKeyId,
        accessKeySecret: session.accessKeySecret,
        securityToken: session.securityToken,
      }).createAccessKey(new $Ims.CreateAccessKeyRequest({})),
    ).rejects.toMatchObject({ code: 'MissingUserPrincipalName' });
  });
});

describe('RAM emulator: fault injection', () => {
  it('answers with the fault the intercept hook returns, and records nothing', async () => {
    await start({
      intercept: ({ action }) =>
        action === 'UpdateAccessKey'
          ? { status: 503, code: 'ServiceUnavailable', message: 'fake outage' }
          : undefined,
    });
    const { key } = identities.userWithKey('alice');
    const update = new $Ram.UpdateAccessKeyRequest({
      userName: 'alice',
      userAccessKeyId: key.accessKeyId,
      status: 'Inactive',
    });
    await expect(ram().updateAccessKey(update)).rejects.toMatchObject({
      code: 'ServiceUnavailable',
      statusCode: 503,
    });
    expect(key.status).toBe('Active');
    expect(events).toEqual([]);
    await ram().getUser(new $Ram.GetUserRequest({ userName: 'alice' }));
  });

  it('drops the connection when the intercept hook says reset', async () => {
    await start({ intercept: () => 'reset' });
    await expect(ram().getUser(new $Ram.GetUserRequest({ userName: 'alice' }))).rejects.toMatchObject({
      code: 'ECONNRESET',
    });
  });

  it('delays every answer by latencyMs', async () => {
    await start({ latencyMs: 200 });
    identities.createUser('alice');
    const began = Date.now();
    await ram().getUser(new $Ram.GetUserRequest({ userName: 'alice' }));
    expect(Date.now() - began).toBeGreaterThanOrEqual(190);
  });
});
