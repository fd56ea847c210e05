import Ims, * as $Ims from '@alicloud/ims20190815';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import Ram, * as $Ram from '@alicloud/ram20150501';
import type { Endpoints } from '../config/load';
import type { CloudCredentials } from './oss';
import { popConfig } from './pop';
import type { RamApi } from './ram';

/** RAM and IMS are global (F-RAM-GLOBAL-ENDPOINT); events are in cn-shanghai (F-ACTIONTRAIL-IMS-EVENTS). */
const GLOBAL_REGION = 'cn-shanghai';

/**
 * The RAM (2015-05-01) and IMS (2019-08-15) SDK clients behind `RamApi`. Only the functions that read RAM
 * (the AccessKey guard, trail-guard, the sweeper) import this module, so the others do not carry the two SDKs'
 * model classes.
 */
export function createRamApi(credentials: CloudCredentials, endpoints: Endpoints): RamApi {
  const ram = sdkClient(Ram, popConfig(credentials, 'ram.aliyuncs.com', GLOBAL_REGION, endpoints.ram));
  const ims = sdkClient(Ims, popConfig(credentials, 'ims.aliyuncs.com', GLOBAL_REGION, endpoints.ims));
  return {
    getImsUser: (by) => ims.getUser(new $Ims.GetUserRequest(by)),
    getRamUser: (userName) => ram.getUser(new $Ram.GetUserRequest({ userName })),
    untagUser: (userPrincipalName, tagKey) =>
      ims.untagResources(
        new $Ims.UntagResourcesRequest({
          resourceType: 'user',
          resourcePrincipalName: [userPrincipalName],
          tagKey: [tagKey],
        }),
      ),
    listAccessKeys: (userName) => ram.listAccessKeys(new $Ram.ListAccessKeysRequest({ userName })),
    listUsers: (marker) => ram.listUsers(new $Ram.ListUsersRequest(marker ? { marker } : {})),
    getAccessKeyLastUsed: (userName, userAccessKeyId) =>
      ram.getAccessKeyLastUsed(new $Ram.GetAccessKeyLastUsedRequest({ userName, userAccessKeyId })),
    getUserMfaInfo: (userName) => ram.getUserMFAInfo(new $Ram.GetUserMFAInfoRequest({ userName })),
    getRole: (roleName) => ram.getRole(new $Ram.GetRoleRequest({ roleName })),
    getPolicy: (policyName) => ram.getPolicy(new $Ram.GetPolicyRequest({ policyName, policyType: 'Custom' })),
    getPolicyVersion: (policyName, versionId) =>
      ram.getPolicyVersion(new $Ram.GetPolicyVersionRequest({ policyName, policyType: 'Custom', versionId })),
    listPolicyVersions: (policyName) =>
      ram.listPolicyVersions(new $Ram.ListPolicyVersionsRequest({ policyName, policyType: 'Custom' })),
    setDefaultPolicyVersion: (policyName, versionId) =>
      ram.setDefaultPolicyVersion(new $Ram.SetDefaultPolicyVersionRequest({ policyName, versionId })),
    listEntitiesForPolicy: (policyType, policyName) =>
      ram.listEntitiesForPolicy(new $Ram.ListEntitiesForPolicyRequest({ policyType, policyName })),
    detachPolicy: ({ kind, name }, policyType, policyName) => {
      switch (kind) {
        case 'User':
          return ram.detachPolicyFromUser(
            new $Ram.DetachPolicyFromUserRequest({ userName: name, policyType, policyName }),
          );
        case 'Group':
          return ram.detachPolicyFromGroup(
            new $Ram.DetachPolicyFromGroupRequest({ groupName: name, policyType, policyName }),
          );
        case 'Role':
          return ram.detachPolicyFromRole(
            new $Ram.DetachPolicyFromRoleRequest({ roleName: name, policyType, policyName }),
          );
      }
    },
    listGroupsForUser: (userName) => ram.listGroupsForUser(new $Ram.ListGroupsForUserRequest({ userName })),
    listPoliciesForGroup: (groupName) =>
      ram.listPoliciesForGroup(new $Ram.ListPoliciesForGroupRequest({ groupName })),
    getLoginProfile: (userName) => ram.getLoginProfile(new $Ram.GetLoginProfileRequest({ userName })),
    updateAccessKey: (userName, userAccessKeyId, status) =>
      ram.updateAccessKey(new $Ram.UpdateAccessKeyRequest({ userName, userAccessKeyId, status })),
  };
}

type SdkClass<T> = new (config: $OpenApiUtil.Config) => T;

/**
 * The SDKs are CommonJS with `exports.default = Client`. Node's interop, which esbuild applies to this
 * `"type": "module"` source, makes the default import the whole exports object; vitest's makes it the class.
 */
export function sdkClient<T>(imported: SdkClass<T>, config: ReturnType<typeof popConfig>): T {
  const Client = (imported as SdkClass<T> & { default?: SdkClass<T> }).default ?? imported;
  return new Client(new $OpenApiUtil.Config(config));
}
