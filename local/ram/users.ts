import { AcsError, invalidParameter, missingParameter } from '../acs/errors';
import type { AccessKey, RamUser } from '../identity';
import {
  type ActionContext,
  type ActionTable,
  booleanParam,
  listParam,
  type Resources,
  read,
  required,
  tagsParam,
  write,
} from './actions';
import { isoSeconds } from './apis';
import { RAM_ERRORS } from './errors';

/** Users, AccessKeys and login profiles: the same operations in RAM and IMS, over the identity store. */

const USER_NAME = /^[A-Za-z0-9._-]+$/;
const MAX_KEYS = 2;

const userResource = (ctx: ActionContext, user: RamUser): Resources => ({
  'ACS::RAM::User': [ctx.api.nameOf(user, ctx.identities)],
});

function findUser(ctx: ActionContext, predicate: (user: RamUser) => boolean): RamUser {
  for (const user of ctx.identities.users.values()) if (predicate(user)) return user;
  throw new AcsError(RAM_ERRORS.EntityNotExistUser);
}

/** The user named by the API's user parameter, if the call names one. */
function namedUser(ctx: ActionContext): RamUser | undefined {
  const value = ctx.params[ctx.api.userParam];
  if (!value) return undefined;
  const name = ctx.api.userNameOf(value, ctx.identities);
  return findUser(ctx, (user) => user.userName === name);
}

/** IMS also finds users by ID and by AccessKey ID. */
function targetUser(ctx: ActionContext): RamUser {
  const named = namedUser(ctx);
  if (named) return named;
  const { UserId: userId, UserAccessKeyId: keyId } = ctx.params;
  if (userId) return findUser(ctx, (user) => user.userId === userId);
  if (keyId) return findUser(ctx, (user) => user.accessKeys.some((k) => k.accessKeyId === keyId));
  throw missingParameter(ctx.api.userParam);
}

interface KeyHolder {
  /** Undefined for the root account. */
  user?: RamUser;
  keys: AccessKey[];
}

/** Whose keys a key operation acts on: the user the call names or, when it names none, the caller itself. */
function keyHolder(ctx: ActionContext): KeyHolder {
  const named = namedUser(ctx);
  if (named) return { user: named, keys: named.accessKeys };
  switch (ctx.caller.kind) {
    case 'root-account':
      return { keys: ctx.identities.rootKeys };
    case 'ram-user': {
      const self = findUser(ctx, (user) => user.userId === ctx.caller.principalId);
      return { user: self, keys: self.accessKeys };
    }
    default:
      // A role session owns no keys. UNVERIFIED what RAM answers here.
      throw missingParameter(ctx.api.userParam);
  }
}

const holderResources = (ctx: ActionContext, holder: KeyHolder, keyId: string): Resources => ({
  // UNVERIFIED: the resource type ActionTrail uses for AccessKeys.
  'ACS::RAM::AccessKey': [keyId],
  ...(holder.user ? userResource(ctx, holder.user) : {}),
});

function heldKey(ctx: ActionContext, holder: KeyHolder): AccessKey {
  const keyId = required(ctx.params, 'UserAccessKeyId');
  const key = holder.keys.find((k) => k.accessKeyId === keyId);
  if (!key) throw new AcsError(RAM_ERRORS.EntityNotExistUserAccessKey);
  return key;
}

function newUserName(ctx: ActionContext): string {
  const value = required(ctx.params, ctx.api.userParam);
  const name = ctx.api.userNameOf(value, ctx.identities);
  if (name === undefined)
    throw invalidParameter(ctx.api.userParam, `the domain must be ${ctx.identities.accountId}.onaliyun.com`);
  if (name.length === 0 || name.length > 64) throw new AcsError(RAM_ERRORS.UserNameLength);
  if (!USER_NAME.test(name)) throw new AcsError(RAM_ERRORS.UserNameInvalidChars);
  return name;
}

export const USER_ACTIONS: ActionTable = {
  CreateUser: write((ctx) => {
    const name = newUserName(ctx);
    if (ctx.identities.users.has(name)) throw new AcsError(RAM_ERRORS.EntityAlreadyExistsUser);
    const user = ctx.identities.createUser(name, { displayName: ctx.params.DisplayName || name });
    for (const [key, value] of tagsParam(ctx.params)) user.tags[key] = value;
    return { body: { User: ctx.api.renderUser(user, ctx.identities) }, resources: userResource(ctx, user) };
  }),

  GetUser: read((ctx) => ({ body: { User: ctx.api.renderUser(targetUser(ctx), ctx.identities) } })),

  DeleteUser: write((ctx) => {
    const user = targetUser(ctx);
    if (user.accessKeys.length > 0) throw new AcsError(RAM_ERRORS.DeleteConflictUserAccessKey);
    if (user.loginProfile) throw new AcsError(RAM_ERRORS.DeleteConflictUserLoginProfile);
    ctx.identities.users.delete(user.userName);
    return { body: {}, resources: userResource(ctx, user) };
  }),

  CreateAccessKey: write((ctx) => {
    const holder = keyHolder(ctx);
    if (holder.keys.length >= MAX_KEYS) throw new AcsError(RAM_ERRORS.LimitExceededUserAccessKey);
    const key = holder.user
      ? ctx.identities.createAccessKey(holder.user.userName)
      : ctx.identities.createRootAccessKey();
    return {
      body: {
        AccessKey: {
          AccessKeyId: key.accessKeyId,
          AccessKeySecret: key.accessKeySecret,
          CreateDate: isoSeconds(key.createDate),
          Status: key.status,
        },
      },
      resources: holderResources(ctx, holder, key.accessKeyId),
    };
  }),

  ListAccessKeys: read((ctx) => ({
    body: {
      AccessKeys: {
        AccessKey: keyHolder(ctx).keys.map((k) => ({
          AccessKeyId: k.accessKeyId,
          Status: k.status,
          CreateDate: isoSeconds(k.createDate),
        })),
      },
    },
  })),

  // When a key last signed a call (F-RAM-GETACCESSKEYLASTUSED). A key never used answers no date: unverified,
  // see the fact; ossguard then judges the key by its age.
  GetAccessKeyLastUsed: read((ctx) => {
    const key = heldKey(ctx, keyHolder(ctx));
    return {
      body: {
        AccessKeyLastUsed: key.lastUsedDate ? { LastUsedDate: isoSeconds(key.lastUsedDate) } : {},
      },
    };
  }),

  // The user's MFA device (F-RAM-GETUSERMFAINFO); what RAM answers for a user without one is UNVERIFIED: this
  // answers EntityNotExist.User.MFADevice, and ossguard reads an answer without a device the same way.
  GetUserMFAInfo: read((ctx) => {
    const user = targetUser(ctx);
    if (!user.mfa) throw new AcsError(RAM_ERRORS.EntityNotExistUserMfaDevice);
    return {
      body: {
        MFADevice: {
          SerialNumber: `acs:ram::${ctx.identities.accountId}:mfa/${user.userName}`,
          Type: 'VMFA',
        },
      },
    };
  }),

  // Every user of the account, in one page: the emulated account is small (F-RAM-LISTUSERS).
  ListUsers: read((ctx) => ({
    body: {
      IsTruncated: false,
      Users: { User: [...ctx.identities.users.values()].map((u) => ctx.api.renderUser(u, ctx.identities)) },
    },
  })),

  UpdateAccessKey: write((ctx) => {
    const holder = keyHolder(ctx);
    const key = heldKey(ctx, holder);
    const status = required(ctx.params, 'Status');
    if (status !== 'Active' && status !== 'Inactive')
      throw invalidParameter('Status', 'expected Active or Inactive');
    key.status = status;
    return { body: {}, resources: holderResources(ctx, holder, key.accessKeyId) };
  }),

  DeleteAccessKey: write((ctx) => {
    const holder = keyHolder(ctx);
    const key = heldKey(ctx, holder);
    holder.keys.splice(holder.keys.indexOf(key), 1);
    return { body: {}, resources: holderResources(ctx, holder, key.accessKeyId) };
  }),

  CreateLoginProfile: write((ctx) => {
    const user = targetUser(ctx);
    if (user.loginProfile) throw new AcsError(RAM_ERRORS.EntityAlreadyExistsUserLoginProfile);
    required(ctx.params, 'Password');
    user.loginProfile = {
      createDate: new Date().toISOString(),
      mfaBindRequired: booleanParam(ctx.params, 'MFABindRequired') ?? false,
      passwordResetRequired: booleanParam(ctx.params, 'PasswordResetRequired') ?? false,
    };
    return {
      body: { LoginProfile: ctx.api.renderLoginProfile(user, ctx.identities) },
      resources: userResource(ctx, user),
    };
  }),

  GetLoginProfile: read((ctx) => {
    const user = targetUser(ctx);
    if (!user.loginProfile) throw new AcsError(RAM_ERRORS.EntityNotExistUserLoginProfile);
    return { body: { LoginProfile: ctx.api.renderLoginProfile(user, ctx.identities) } };
  }),
};

/**
 * IMS user tags (ResourceType `user`, F-IMS-USER-TAGS); RAM 2015-05-01 tags only roles and policies. Whether
 * `ResourcePrincipalName` takes the logon name or the bare user name is UNVERIFIED ("the name of the RAM
 * user"): both are accepted.
 */
function taggedUsers(ctx: ActionContext, optional = false): RamUser[] {
  const type = ctx.params.ResourceType;
  if (type !== 'user' && !(optional && !type)) throw invalidParameter('ResourceType', 'expected user');
  const names = listParam(ctx.params, 'ResourcePrincipalName');
  const ids = listParam(ctx.params, 'ResourceId');
  if (names.length === 0 && ids.length === 0) {
    if (optional) return [...ctx.identities.users.values()];
    throw missingParameter('ResourcePrincipalName');
  }
  return [
    ...names.map((value) => {
      const name = value.includes('@') ? ctx.api.userNameOf(value, ctx.identities) : value;
      return findUser(ctx, (user) => user.userName === name);
    }),
    ...ids.map((id) => findUser(ctx, (user) => user.userId === id)),
  ];
}

const usersResource = (ctx: ActionContext, users: RamUser[]): Resources => ({
  'ACS::RAM::User': users.map((user) => ctx.api.nameOf(user, ctx.identities)),
});

const MAX_TAG_PAGE = 100;

export const USER_TAG_ACTIONS: ActionTable = {
  TagResources: write((ctx) => {
    const users = taggedUsers(ctx);
    const tags = tagsParam(ctx.params);
    if (tags.length === 0) throw missingParameter('Tag');
    for (const user of users) for (const [key, value] of tags) user.tags[key] = value;
    return { body: {}, resources: usersResource(ctx, users) };
  }),

  UntagResources: write((ctx) => {
    const users = taggedUsers(ctx);
    const keys = listParam(ctx.params, 'TagKey');
    const all = booleanParam(ctx.params, 'All') ?? false;
    if (keys.length === 0 && !all) throw missingParameter('TagKey');
    for (const user of users) {
      for (const key of keys.length > 0 ? keys : Object.keys(user.tags)) delete user.tags[key];
    }
    return { body: {}, resources: usersResource(ctx, users) };
  }),

  ListTagResources: read((ctx) => {
    const wanted = tagsParam(ctx.params);
    const rows = taggedUsers(ctx, true).flatMap((user) =>
      Object.entries(user.tags)
        .filter(
          ([key, value]) => wanted.length === 0 || wanted.some(([k, v]) => k === key && (!v || v === value)),
        )
        .map(([TagKey, TagValue]) => ({ ResourceId: user.userId, ResourceType: 'user', TagKey, TagValue })),
    );
    const pageSize = Number(ctx.params.PageSize || MAX_TAG_PAGE);
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_TAG_PAGE) {
      throw invalidParameter('PageSize', `expected 1 to ${MAX_TAG_PAGE}`);
    }
    // An offset is enough here: tag listings are short and not expected to stay stable under writes.
    const offset = Number(ctx.params.NextToken || 0);
    const page = rows.slice(offset, offset + pageSize);
    const more = offset + pageSize < rows.length;
    return {
      body: {
        IsTruncated: more,
        NextToken: more ? String(offset + pageSize) : '',
        TagResources: { TagResource: page },
      },
    };
  }),
};
