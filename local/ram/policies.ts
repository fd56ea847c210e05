import { randomInt } from 'node:crypto';
import { AcsError, type ErrorSpec } from '../acs/errors';
import { type ActionContext, type ActionTable, read, required, write } from './actions';
import type { Attachment } from './catalog';
import { RAM_ERRORS } from './errors';
import { customPolicy, existingRole, now, policyType, renderVersion, roleArn } from './roles';

/**
 * Policies attached to RAM users, groups and roles, groups and their members, and the versions of custom
 * policies (RAM 2015-05-01; F-RAM-POLICY-CALLS, F-RAM-GROUPS): what identity-policy-guard reads and repairs.
 * System policies are attached by name and never read.
 */

/** The user a call names: RAM by `UserName`, IMS by the logon name `UserPrincipalName` (F-IMS-ADDUSERTOGROUP). */
function existingUser(ctx: ActionContext): string {
  const userName = ctx.api.userNameOf(required(ctx.params, ctx.api.userParam), ctx.identities);
  if (!userName || !ctx.identities.users.has(userName)) throw new AcsError(RAM_ERRORS.EntityNotExistUser);
  return userName;
}

function existingGroup(ctx: ActionContext): string {
  const groupName = required(ctx.params, 'GroupName');
  if (!ctx.catalog.groups.has(groupName)) throw new AcsError(RAM_ERRORS.EntityNotExistGroup);
  return groupName;
}

/** The policy a call names: a custom one must exist, a system one is taken by name. */
function namedPolicy(ctx: ActionContext): { type: 'System' | 'Custom'; policyName: string } {
  const type = policyType(ctx.params);
  const policyName = type === 'Custom' ? customPolicy(ctx).policyName : required(ctx.params, 'PolicyName');
  return { type, policyName };
}

const matches = (a: Attachment, p: { type: string; policyName: string }) =>
  a.policyType === p.type && a.policyName === p.policyName;

/** What a policy can be attached to: how a call names it, where its attachments are kept, what RAM answers. */
interface Principal {
  existing(ctx: ActionContext): string;
  attachments(ctx: ActionContext): Map<string, Attachment[]>;
  alreadyAttached: ErrorSpec;
  notAttached: ErrorSpec;
}

const PRINCIPALS = {
  User: {
    existing: existingUser,
    attachments: (ctx) => ctx.catalog.userAttachments,
    alreadyAttached: RAM_ERRORS.EntityAlreadyExistsUserPolicy,
    notAttached: RAM_ERRORS.EntityNotExistUserPolicy,
  },
  Group: {
    existing: existingGroup,
    attachments: (ctx) => ctx.catalog.groupAttachments,
    alreadyAttached: RAM_ERRORS.EntityAlreadyExistsGroupPolicy,
    notAttached: RAM_ERRORS.EntityNotExistGroupPolicy,
  },
  Role: {
    existing: (ctx) => existingRole(ctx).roleName,
    attachments: (ctx) => ctx.catalog.attachments,
    alreadyAttached: RAM_ERRORS.EntityAlreadyExistsRolePolicy,
    notAttached: RAM_ERRORS.EntityNotExistRolePolicy,
  },
} satisfies Record<string, Principal>;

const attach = (principal: Principal) =>
  write((ctx) => {
    const name = principal.existing(ctx);
    const policy = namedPolicy(ctx);
    const attached = principal.attachments(ctx).get(name) ?? [];
    if (attached.some((a) => matches(a, policy))) throw new AcsError(principal.alreadyAttached);
    attached.push({ policyType: policy.type, policyName: policy.policyName, attachDate: now() });
    principal.attachments(ctx).set(name, attached);
    return { body: {} };
  });

const detach = (principal: Principal) =>
  write((ctx) => {
    const name = principal.existing(ctx);
    const policy = namedPolicy(ctx);
    const attached = principal.attachments(ctx).get(name) ?? [];
    const at = attached.findIndex((a) => matches(a, policy));
    if (at < 0) throw new AcsError(principal.notAttached);
    attached.splice(at, 1);
    return { body: {} };
  });

const listFor = (principal: Principal) =>
  read((ctx) => ({
    body: {
      Policies: {
        Policy: (principal.attachments(ctx).get(principal.existing(ctx)) ?? []).map((a) => {
          const custom = a.policyType === 'Custom' ? ctx.catalog.policies.get(a.policyName) : undefined;
          return {
            PolicyName: a.policyName,
            PolicyType: a.policyType,
            Description: custom?.description ?? '',
            DefaultVersion: custom?.defaultVersion ?? 'v1',
            AttachDate: a.attachDate,
          };
        }),
      },
    },
  }));

const GROUP_NAME = /^[A-Za-z0-9-]{1,64}$/;

/** Joining a group: RAM's call and IMS's, which names the user by its logon name (F-IMS-ADDUSERTOGROUP). */
export const GROUP_MEMBERSHIP_ACTIONS: ActionTable = {
  AddUserToGroup: write((ctx) => {
    const groupName = existingGroup(ctx);
    const userName = existingUser(ctx);
    const members = ctx.catalog.groups.get(groupName)?.members ?? new Map<string, string>();
    if (members.has(userName)) throw new AcsError(RAM_ERRORS.EntityAlreadyExistsUserGroup);
    members.set(userName, now());
    return { body: {} };
  }),
};

export const POLICY_ACTIONS: ActionTable = {
  AttachPolicyToUser: attach(PRINCIPALS.User),
  DetachPolicyFromUser: detach(PRINCIPALS.User),
  ListPoliciesForUser: listFor(PRINCIPALS.User),
  AttachPolicyToGroup: attach(PRINCIPALS.Group),
  DetachPolicyFromGroup: detach(PRINCIPALS.Group),
  ListPoliciesForGroup: listFor(PRINCIPALS.Group),
  AttachPolicyToRole: attach(PRINCIPALS.Role),
  DetachPolicyFromRole: detach(PRINCIPALS.Role),
  ListPoliciesForRole: listFor(PRINCIPALS.Role),

  // F-RAM-LISTENTITIESFORPOLICY: PolicyName and PolicyType; Users.User, Groups.Group, Roles.Role.
  ListEntitiesForPolicy: read((ctx) => {
    const { users, groups, roles } = ctx.catalog.holdersOf(namedPolicy(ctx));
    return {
      body: {
        Users: {
          User: users.map(([name, a]) => {
            const user = ctx.identities.users.get(name);
            return {
              UserId: user?.userId ?? '',
              UserName: name,
              DisplayName: user?.displayName ?? name,
              AttachDate: a.attachDate,
            };
          }),
        },
        Groups: {
          Group: groups.map(([name, a]) => ({
            GroupName: name,
            Comments: ctx.catalog.groups.get(name)?.comments ?? '',
            AttachDate: a.attachDate,
          })),
        },
        Roles: {
          Role: roles.map(([name, a]) => ({
            RoleId: ctx.identities.roles.get(name)?.roleId ?? '',
            RoleName: name,
            Arn: roleArn(ctx, name),
            Description: ctx.catalog.roles.get(name)?.description ?? '',
            AttachDate: a.attachDate,
          })),
        },
      },
    };
  }),

  // F-RAM-GROUPS: a group name holds letters, digits and hyphens, 1 to 64 of them.
  CreateGroup: write((ctx) => {
    const groupName = required(ctx.params, 'GroupName');
    if (!GROUP_NAME.test(groupName)) throw new AcsError(RAM_ERRORS.GroupNameInvalid);
    if (ctx.catalog.groups.has(groupName)) throw new AcsError(RAM_ERRORS.EntityAlreadyExistsGroup);
    const group = {
      groupId: String(randomInt(1e9, 1e10)),
      comments: ctx.params.Comments ?? '',
      createDate: now(),
      members: new Map<string, string>(),
    };
    ctx.catalog.groups.set(groupName, group);
    return {
      body: {
        Group: {
          GroupId: group.groupId,
          GroupName: groupName,
          Comments: group.comments,
          CreateDate: group.createDate,
        },
      },
    };
  }),

  ...GROUP_MEMBERSHIP_ACTIONS,

  // F-RAM-LISTGROUPSFORUSER: UserName; Groups.Group[] (GroupId, GroupName, Comments, JoinDate).
  ListGroupsForUser: read((ctx) => {
    const userName = existingUser(ctx);
    const groups = [...ctx.catalog.groups].filter(([, group]) => group.members.has(userName));
    return {
      body: {
        Groups: {
          Group: groups.map(([name, group]) => ({
            GroupId: group.groupId,
            GroupName: name,
            Comments: group.comments,
            JoinDate: group.members.get(userName),
          })),
        },
      },
    };
  }),

  ListPolicyVersions: read((ctx) => {
    const policy = customPolicy(ctx);
    return {
      body: { PolicyVersions: { PolicyVersion: policy.versions.map((v) => renderVersion(policy, v)) } },
    };
  }),

  SetDefaultPolicyVersion: write((ctx) => {
    const policy = customPolicy(ctx);
    const versionId = required(ctx.params, 'VersionId');
    if (!policy.versions.some((v) => v.versionId === versionId))
      throw new AcsError(RAM_ERRORS.EntityNotExistPolicyVersion);
    policy.defaultVersion = versionId;
    policy.updateDate = now();
    return { body: {} };
  }),
};
