import type { IdentityStore, RamUser } from '../identity';

/**
 * The two APIs over the same users and keys: RAM 2015-05-01 names users by `UserName`, IMS 2019-08-15 by the
 * logon name `UserPrincipalName` (`<user>@<account>.onaliyun.com`). ActionTrail records them as different
 * services (F-ACTIONTRAIL-RAM-EVENTS, F-ACTIONTRAIL-IMS-EVENTS).
 */
export interface RamApi {
  serviceName: 'Ram' | 'Ims';
  version: string;
  eventSource: string;
  /** The endpoint the real API answers on, the `HostId` of its errors. */
  host: string;
  /** The parameter naming the target user. */
  userParam: 'UserName' | 'UserPrincipalName';
  /** How this API names the user, in parameters and in ActionTrail's `ACS::RAM::User`. */
  nameOf(user: RamUser, identities: IdentityStore): string;
  /** The RAM user name a `userParam` value refers to; undefined when it cannot refer to one of ours. */
  userNameOf(value: string, identities: IdentityStore): string | undefined;
  renderUser(user: RamUser, identities: IdentityStore): Record<string, unknown>;
  renderLoginProfile(user: RamUser, identities: IdentityStore): Record<string, unknown>;
}

/** The account's default domain; the emulated account has no alias, so the domain uses its ID. */
export const defaultDomain = (identities: IdentityStore): string => `${identities.accountId}.onaliyun.com`;

export const userPrincipalName = (identities: IdentityStore, userName: string): string =>
  `${userName}@${defaultDomain(identities)}`;

/** RAM answers times to the second, e.g. `2020-10-15T08:08:54Z`; the store keeps milliseconds. */
export const isoSeconds = (iso: string): string => iso.replace(/\.\d{3}Z$/, 'Z');

const loginProfileFlags = (user: RamUser) => ({
  MFABindRequired: user.loginProfile?.mfaBindRequired ?? false,
  PasswordResetRequired: user.loginProfile?.passwordResetRequired ?? false,
});

export const RAM: RamApi = {
  serviceName: 'Ram',
  version: '2015-05-01',
  eventSource: 'ram.aliyuncs.com',
  host: 'ram.aliyuncs.com',
  userParam: 'UserName',
  nameOf: (user) => user.userName,
  userNameOf: (value) => value,
  renderUser: (user) => ({
    UserId: user.userId,
    UserName: user.userName,
    DisplayName: user.displayName,
    CreateDate: isoSeconds(user.createDate),
    UpdateDate: isoSeconds(user.createDate),
  }),
  renderLoginProfile: (user) => ({
    UserName: user.userName,
    CreateDate: isoSeconds(user.loginProfile?.createDate ?? user.createDate),
    ...loginProfileFlags(user),
  }),
};

export const IMS: RamApi = {
  serviceName: 'Ims',
  version: '2019-08-15',
  eventSource: 'ims-share.aliyuncs.com',
  host: 'ims.aliyuncs.com',
  userParam: 'UserPrincipalName',
  nameOf: (user, identities) => userPrincipalName(identities, user.userName),
  userNameOf: (value, identities) => {
    const at = value.lastIndexOf('@');
    return at > 0 && value.slice(at + 1) === defaultDomain(identities) ? value.slice(0, at) : undefined;
  },
  renderUser: (user, identities) => ({
    UserId: user.userId,
    UserPrincipalName: userPrincipalName(identities, user.userName),
    UserName: user.userName,
    DisplayName: user.displayName,
    CreateDate: isoSeconds(user.createDate),
    UpdateDate: isoSeconds(user.createDate),
    Tags: { Tag: Object.entries(user.tags).map(([TagKey, TagValue]) => ({ TagKey, TagValue })) },
  }),
  renderLoginProfile: (user, identities) => ({
    UserPrincipalName: userPrincipalName(identities, user.userName),
    Status: 'Active',
    UpdateDate: isoSeconds(user.loginProfile?.createDate ?? user.createDate),
    ...loginProfileFlags(user),
  }),
};
