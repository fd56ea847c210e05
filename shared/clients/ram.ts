import { CloudApiError } from '../errors';
import type { CallLog } from './calllog';
import { popCall } from './pop';
import { DEFAULT_RETRY, type RetryOptions } from './retry';

type Body<T> = Promise<{ body?: T & { requestId?: string } }>;

/** The RAM/IMS calls the AccessKey guards and the sweep make, as the SDKs answer them (see ram-sdk.ts). */
export interface RamApi {
  /** IMS GetUser, by one of the three ways it names a user. */
  getImsUser(by: { userAccessKeyId: string } | { userId: string } | { userPrincipalName: string }): Body<{
    user?: {
      userName?: string;
      userPrincipalName?: string;
      tags?: { tag?: Array<{ tagKey?: string; tagValue?: string }> };
    };
  }>;
  /** RAM GetUser by name: the user's id, to find the user in IMS. */
  getRamUser(userName: string): Body<{ user?: { userId?: string } }>;
  /** IMS UntagResources of one tag of one user (F-IMS-USER-TAGS). */
  untagUser(userPrincipalName: string, tagKey: string): Body<object>;
  listAccessKeys(userName: string): Body<{
    accessKeys?: { accessKey?: Array<{ accessKeyId?: string; status?: string; createDate?: string }> };
  }>;
  listUsers(
    marker?: string,
  ): Body<{ users?: { user?: Array<{ userName?: string }> }; isTruncated?: boolean; marker?: string }>;
  getUserMfaInfo(userName: string): Body<{ MFADevice?: { serialNumber?: string } }>;
  getPolicyVersion(
    policyName: string,
    versionId: string,
  ): Body<{ policyVersion?: { policyDocument?: string; versionId?: string } }>;
  getPolicy(policyName: string): Body<{ policy?: { defaultVersion?: string } }>;
  listPolicyVersions(
    policyName: string,
  ): Body<{ policyVersions?: { policyVersion?: Array<{ versionId?: string; createDate?: string }> } }>;
  setDefaultPolicyVersion(policyName: string, versionId: string): Body<object>;
  listEntitiesForPolicy(
    policyType: string,
    policyName: string,
  ): Body<{
    users?: { user?: Array<{ userName?: string }> };
    groups?: { group?: Array<{ groupName?: string }> };
    roles?: { role?: Array<{ roleName?: string }> };
  }>;
  detachPolicy(principal: PolicyPrincipal, policyType: string, policyName: string): Body<object>;
  listGroupsForUser(userName: string): Body<{ groups?: { group?: Array<{ groupName?: string }> } }>;
  listPoliciesForGroup(
    groupName: string,
  ): Body<{ policies?: { policy?: Array<{ policyName?: string; policyType?: string }> } }>;
  getAccessKeyLastUsed(
    userName: string,
    accessKeyId: string,
  ): Body<{ accessKeyLastUsed?: { lastUsedDate?: string } }>;
  getLoginProfile(userName: string): Body<object>;
  updateAccessKey(userName: string, accessKeyId: string, status: 'Active' | 'Inactive'): Body<object>;
  /** RAM GetRole: the role and its trust policy (F-RAM-GETROLE). */
  getRole(roleName: string): Body<{ role?: { roleName?: string; assumeRolePolicyDocument?: string } }>;
}

/** What an identity policy can be attached to. */
export interface PolicyPrincipal {
  kind: 'User' | 'Group' | 'Role';
  name: string;
}

export interface KeyOwner {
  userName: string;
  userPrincipalName?: string;
  tags: Record<string, string>;
}

const isEntityMissing = (error: unknown): boolean =>
  error instanceof CloudApiError && error.code.startsWith('EntityNotExist');

/**
 * The name in RAM's answer that a call's name designates: spelled the same, or else the same but for case.
 * Whether RAM matches user, group and role names without case is unverified (F-RAM-NAME-CASE): if it does, a
 * call may name `MALLORY` for `mallory` and RAM's lists show `mallory`; if it does not, the exact spelling is
 * found first. Either way the name returned is the one RAM holds, for the check of ossguard's own role and the
 * detach.
 */
function spelledByRam(names: ReadonlyArray<string | undefined>, name: string): string | undefined {
  return names.find((n) => n === name) ?? names.find((n) => n?.toLowerCase() === name.toLowerCase());
}

/** The RAM/IMS calls with retries, typed errors and a request-id log for the audit record. */
export class RamGateway {
  constructor(
    private readonly api: RamApi,
    private readonly log: CallLog,
    private readonly retry: RetryOptions = DEFAULT_RETRY,
  ) {}

  /** IMS GetUser by AccessKey id: who owns the key, and the user's tags (for exceptions). Undefined: no RAM user owns it. */
  keyOwner(accessKeyId: string): Promise<KeyOwner | undefined> {
    return this.imsUser({ userAccessKeyId: accessKeyId });
  }

  /**
   * A RAM user as IMS shows it now, with its tags; undefined when there is no such user. A bare user name is
   * first turned into the user's id with RAM GetUser, as IMS names users by logon name, id or key only.
   */
  async imsUser(
    by: Parameters<RamApi['getImsUser']>[0] | { userName: string },
  ): Promise<KeyOwner | undefined> {
    try {
      const request = 'userName' in by ? await this.userIdOf(by.userName) : by;
      if (!request) return undefined;
      const result = await popCall('ims', 'GetUser', this.log, this.retry, () =>
        this.api.getImsUser(request),
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

  /** RAM GetUser: the id of a user named by its bare name (EntityNotExist.User is caught by the caller). */
  private async userIdOf(userName: string): Promise<{ userId: string } | undefined> {
    const found = await popCall('ram', 'GetUser', this.log, this.retry, () => this.api.getRamUser(userName));
    const userId = found.body?.user?.userId;
    return userId ? { userId } : undefined;
  }

  /** Removes one tag from a user (IMS UntagResources, F-IMS-USER-TAGS). */
  async untagUser(userPrincipalName: string, tagKey: string): Promise<void> {
    await popCall('ims', 'UntagResources', this.log, this.retry, () =>
      this.api.untagUser(userPrincipalName, tagKey),
    );
  }

  /** A user deleted since the event holds no keys: the caller sees its key gone rather than a failure. */
  async listAccessKeys(
    userName: string,
  ): Promise<Array<{ accessKeyId: string; status: string; createDate?: string }>> {
    let result: Awaited<ReturnType<RamApi['listAccessKeys']>>;
    try {
      result = await popCall('ram', 'ListAccessKeys', this.log, this.retry, () =>
        this.api.listAccessKeys(userName),
      );
    } catch (error) {
      if (isEntityMissing(error)) return [];
      throw error;
    }
    return (result.body?.accessKeys?.accessKey ?? []).map((k) => ({
      accessKeyId: k.accessKeyId ?? '',
      status: k.status ?? '',
      ...(k.createDate ? { createDate: k.createDate } : {}),
    }));
  }

  /** Every RAM user's name, page by page (F-RAM-LISTUSERS). */
  async listUserNames(): Promise<string[]> {
    const names: string[] = [];
    let marker: string | undefined;
    do {
      const page = await popCall('ram', 'ListUsers', this.log, this.retry, () => this.api.listUsers(marker));
      for (const user of page.body?.users?.user ?? []) if (user.userName) names.push(user.userName);
      marker = page.body?.isTruncated ? page.body.marker : undefined;
    } while (marker);
    return names;
  }

  /**
   * When the key last signed a call, without a date when RAM answers none (F-RAM-GETACCESSKEYLASTUSED);
   * undefined when the key or its user no longer exists (`EntityNotExist.*`, F-RAM-ERROR-CODES), as a key
   * deleted since it was listed: gone, like `listAccessKeys` and `keyOwner` read it.
   */
  async keyLastUsed(userName: string, accessKeyId: string): Promise<{ lastUsedDate?: string } | undefined> {
    let result: Awaited<ReturnType<RamApi['getAccessKeyLastUsed']>>;
    try {
      result = await popCall('ram', 'GetAccessKeyLastUsed', this.log, this.retry, () =>
        this.api.getAccessKeyLastUsed(userName, accessKeyId),
      );
    } catch (error) {
      if (isEntityMissing(error)) return undefined;
      throw error;
    }
    const lastUsedDate = result.body?.accessKeyLastUsed?.lastUsedDate;
    return lastUsedDate ? { lastUsedDate } : {};
  }

  async hasLoginProfile(userName: string): Promise<boolean> {
    try {
      await popCall('ram', 'GetLoginProfile', this.log, this.retry, () => this.api.getLoginProfile(userName));
      return true;
    } catch (error) {
      if (isEntityMissing(error)) return false;
      throw error;
    }
  }

  /**
   * Whether the user has an MFA device (F-RAM-GETUSERMFAINFO): what RAM answers for a user without one is
   * unverified, so an EntityNotExist error and an answer without a device both mean none.
   */
  async hasMfaDevice(userName: string): Promise<boolean> {
    try {
      const result = await popCall('ram', 'GetUserMFAInfo', this.log, this.retry, () =>
        this.api.getUserMfaInfo(userName),
      );
      return Boolean(result.body?.MFADevice?.serialNumber);
    } catch (error) {
      if (isEntityMissing(error)) return false;
      throw error;
    }
  }

  /** A role's trust policy now (GetRole, F-RAM-GETROLE); undefined: no such role (EntityNotExist.Role). */
  async roleTrust(roleName: string): Promise<{ document: string } | undefined> {
    try {
      const found = await popCall('ram', 'GetRole', this.log, this.retry, () => this.api.getRole(roleName));
      const role = found.body?.role;
      return role ? { document: role.assumeRolePolicyDocument ?? '' } : undefined;
    } catch (error) {
      if (isEntityMissing(error)) return undefined;
      throw error;
    }
  }

  /** A custom policy's default version id and document now (F-RAM-POLICY-CALLS); undefined: no such policy. */
  async defaultPolicyVersion(
    policyName: string,
  ): Promise<{ versionId: string; document: string } | undefined> {
    const versionId = await this.defaultVersionId(policyName);
    return versionId ? { versionId, document: await this.policyDocument(policyName, versionId) } : undefined;
  }

  /** A custom policy's default version id now (GetPolicy, F-RAM-POLICY-CALLS); undefined: no such policy. */
  async defaultVersionId(policyName: string): Promise<string | undefined> {
    try {
      const policy = await popCall('ram', 'GetPolicy', this.log, this.retry, () =>
        this.api.getPolicy(policyName),
      );
      return policy.body?.policy?.defaultVersion || undefined;
    } catch (error) {
      if (isEntityMissing(error)) return undefined;
      throw error;
    }
  }

  /** One version's document (GetPolicyVersion, F-RAM-POLICY-CALLS). */
  async policyDocument(policyName: string, versionId: string): Promise<string> {
    const version = await popCall('ram', 'GetPolicyVersion', this.log, this.retry, () =>
      this.api.getPolicyVersion(policyName, versionId),
    );
    return version.body?.policyVersion?.policyDocument ?? '';
  }

  /** A custom policy's version ids, oldest first by creation. */
  async policyVersions(policyName: string): Promise<Array<{ versionId: string; createDate: string }>> {
    const result = await popCall('ram', 'ListPolicyVersions', this.log, this.retry, () =>
      this.api.listPolicyVersions(policyName),
    );
    return (result.body?.policyVersions?.policyVersion ?? [])
      .map((v) => ({ versionId: v.versionId ?? '', createDate: v.createDate ?? '' }))
      .sort((a, b) => a.createDate.localeCompare(b.createDate));
  }

  async setDefaultPolicyVersion(policyName: string, versionId: string): Promise<void> {
    await popCall('ram', 'SetDefaultPolicyVersion', this.log, this.retry, () =>
      this.api.setDefaultPolicyVersion(policyName, versionId),
    );
  }

  /**
   * Who holds the policy now, of the user, group or role a call named (ListEntitiesForPolicy,
   * F-RAM-LISTENTITIESFORPOLICY): RAM's spelling of its name, or undefined when it does not hold the policy (a
   * policy that no longer exists is held by nothing). Names are matched as RAM spells them (F-RAM-NAME-CASE).
   */
  async policyHolder(
    policyType: string,
    policyName: string,
    principal: PolicyPrincipal,
  ): Promise<string | undefined> {
    try {
      const result = await popCall('ram', 'ListEntitiesForPolicy', this.log, this.retry, () =>
        this.api.listEntitiesForPolicy(policyType, policyName),
      );
      const body = result.body;
      const names: Record<PolicyPrincipal['kind'], Array<string | undefined>> = {
        User: (body?.users?.user ?? []).map((u) => u.userName),
        Group: (body?.groups?.group ?? []).map((g) => g.groupName),
        Role: (body?.roles?.role ?? []).map((r) => r.roleName),
      };
      return spelledByRam(names[principal.kind], principal.name);
    } catch (error) {
      if (isEntityMissing(error)) return undefined;
      throw error;
    }
  }

  /** RAM's spelling of the group the user is a member of now (ListGroupsForUser, F-RAM-LISTGROUPSFORUSER). */
  async memberOf(userName: string, groupName: string): Promise<string | undefined> {
    try {
      const result = await popCall('ram', 'ListGroupsForUser', this.log, this.retry, () =>
        this.api.listGroupsForUser(userName),
      );
      const groups = (result.body?.groups?.group ?? []).map((g) => g.groupName);
      return spelledByRam(groups, groupName);
    } catch (error) {
      if (isEntityMissing(error)) return undefined;
      throw error;
    }
  }

  /** The policies a group holds now (ListPoliciesForGroup, F-RAM-GROUPS); none when the group is gone. */
  async groupPolicies(
    groupName: string,
  ): Promise<Array<{ policyType: 'System' | 'Custom'; policyName: string }>> {
    try {
      const result = await popCall('ram', 'ListPoliciesForGroup', this.log, this.retry, () =>
        this.api.listPoliciesForGroup(groupName),
      );
      return (result.body?.policies?.policy ?? []).flatMap((p) =>
        p.policyName
          ? [{ policyType: p.policyType === 'System' ? 'System' : 'Custom', policyName: p.policyName }]
          : [],
      );
    } catch (error) {
      if (isEntityMissing(error)) return [];
      throw error;
    }
  }

  /**
   * DetachPolicyFromUser, DetachPolicyFromGroup or DetachPolicyFromRole (F-RAM-GROUPS). A detach that finds the
   * policy detached already (another delivery of the same event got there first, or the owner did) is done, and
   * says so. RAM's code for "not attached" is verified for groups only (F-RAM-GROUPS): after any
   * `EntityNotExist.*` RAM is asked again, and only a principal that no longer holds it counts as done.
   */
  async detachPolicy(
    principal: PolicyPrincipal,
    policyType: string,
    policyName: string,
  ): Promise<'detached' | 'already-detached'> {
    try {
      await popCall('ram', `DetachPolicyFrom${principal.kind}`, this.log, this.retry, () =>
        this.api.detachPolicy(principal, policyType, policyName),
      );
      return 'detached';
    } catch (error) {
      if (
        isEntityMissing(error) &&
        (await this.policyHolder(policyType, policyName, principal)) === undefined
      )
        return 'already-detached';
      throw error;
    }
  }

  /** RAM UpdateAccessKey to Inactive (F-RAM-UPDATEACCESSKEY). */
  async disableAccessKey(userName: string, accessKeyId: string): Promise<void> {
    await popCall('ram', 'UpdateAccessKey', this.log, this.retry, () =>
      this.api.updateAccessKey(userName, accessKeyId, 'Inactive'),
    );
  }
}
