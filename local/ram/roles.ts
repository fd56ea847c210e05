import { AcsError, invalidParameter } from '../acs/errors';
import {
  type ActionContext,
  type ActionTable,
  booleanParam,
  type Params,
  read,
  required,
  write,
} from './actions';
import { isoSeconds } from './apis';
import type { CustomPolicy, PolicyVersion, RoleDetails } from './catalog';
import { RAM_ERRORS } from './errors';

/**
 * Roles and custom policies (RAM 2015-05-01 only), enough for an idempotent bootstrap of the function role;
 * attaching policies to roles is with users' and groups' in policies.ts.
 * Role existence is the identity store's (so STS sessions and RAM agree); the attributes RAM returns for a role
 * live in catalog.ts. System policies are not modelled: they can be attached by name, not read.
 */

const DEFAULT_MAX_SESSION_SECONDS = 3600;
const MAX_POLICY_VERSIONS = 5;
export const now = (): string => isoSeconds(new Date().toISOString());

function policyDocument(params: Params, name: string): string {
  const document = required(params, name);
  try {
    JSON.parse(document);
  } catch {
    throw new AcsError(RAM_ERRORS.MalformedPolicyDocument, `${name} is not JSON.`);
  }
  return document;
}

function maxSessionDuration(params: Params, name: string): number | undefined {
  const value = params[name];
  if (!value) return undefined;
  const seconds = Number(value);
  if (!Number.isInteger(seconds) || seconds < 3600 || seconds > 43200) {
    throw invalidParameter(name, 'expected 3600 to 43200 seconds');
  }
  return seconds;
}

export function existingRole(ctx: ActionContext): { roleName: string; roleId: string; details: RoleDetails } {
  const roleName = required(ctx.params, 'RoleName');
  const role = ctx.identities.roles.get(roleName);
  if (!role) throw new AcsError(RAM_ERRORS.EntityNotExistRole); // F-RAM-GETROLE
  // A role the store created for an STS session has no RAM attributes until RAM first shows it.
  const created = now();
  const details = ctx.catalog.roles.get(roleName) ?? {
    assumeRolePolicyDocument: '',
    description: '',
    maxSessionDuration: DEFAULT_MAX_SESSION_SECONDS,
    createDate: created,
    updateDate: created,
  };
  ctx.catalog.roles.set(roleName, details);
  return { ...role, details };
}

// UNVERIFIED (F-RAM-GETROLE): real ARNs appear with the role name in lower case.
export const roleArn = (ctx: ActionContext, roleName: string): string =>
  `acs:ram::${ctx.identities.accountId}:role/${roleName.toLowerCase()}`;

function renderRole(ctx: ActionContext, role: { roleName: string; roleId: string; details: RoleDetails }) {
  return {
    RoleId: role.roleId,
    RoleName: role.roleName,
    Arn: roleArn(ctx, role.roleName),
    AssumeRolePolicyDocument: role.details.assumeRolePolicyDocument,
    Description: role.details.description,
    MaxSessionDuration: role.details.maxSessionDuration,
    CreateDate: role.details.createDate,
    UpdateDate: role.details.updateDate,
  };
}

export function policyType(params: Params): 'System' | 'Custom' {
  const type = params.PolicyType || 'Custom';
  if (type !== 'System' && type !== 'Custom') throw new AcsError(RAM_ERRORS.PolicyType);
  return type;
}

export function customPolicy(ctx: ActionContext): CustomPolicy {
  const name = required(ctx.params, 'PolicyName');
  const policy = policyType(ctx.params) === 'Custom' ? ctx.catalog.policies.get(name) : undefined;
  if (!policy) throw new AcsError(RAM_ERRORS.EntityNotExistPolicy);
  return policy;
}

export const renderVersion = (policy: CustomPolicy, version: PolicyVersion) => ({
  VersionId: version.versionId,
  IsDefaultVersion: version.versionId === policy.defaultVersion,
  PolicyDocument: version.document,
  CreateDate: version.createDate,
});

function defaultVersionOf(policy: CustomPolicy): PolicyVersion {
  const version = policy.versions.find((v) => v.versionId === policy.defaultVersion);
  if (!version) throw new Error(`policy ${policy.policyName} lost its default version`);
  return version;
}

const renderPolicy = (policy: CustomPolicy) => ({
  PolicyName: policy.policyName,
  PolicyType: 'Custom',
  Description: policy.description,
  DefaultVersion: policy.defaultVersion,
  CreateDate: policy.createDate,
  UpdateDate: policy.updateDate,
});

export const ROLE_ACTIONS: ActionTable = {
  CreateRole: write((ctx) => {
    const roleName = required(ctx.params, 'RoleName');
    if (ctx.identities.roles.has(roleName)) throw new AcsError(RAM_ERRORS.EntityAlreadyExistsRole);
    const created = now();
    const details: RoleDetails = {
      assumeRolePolicyDocument: policyDocument(ctx.params, 'AssumeRolePolicyDocument'),
      description: ctx.params.Description ?? '',
      maxSessionDuration: maxSessionDuration(ctx.params, 'MaxSessionDuration') ?? DEFAULT_MAX_SESSION_SECONDS,
      createDate: created,
      updateDate: created,
    };
    const role = ctx.identities.createRole(roleName);
    ctx.catalog.roles.set(roleName, details);
    return { body: { Role: renderRole(ctx, { ...role, details }) } };
  }),

  GetRole: read((ctx) => ({ body: { Role: renderRole(ctx, existingRole(ctx)) } })),

  UpdateRole: write((ctx) => {
    const role = existingRole(ctx);
    const { details } = role;
    if (ctx.params.NewAssumeRolePolicyDocument) {
      details.assumeRolePolicyDocument = policyDocument(ctx.params, 'NewAssumeRolePolicyDocument');
    }
    if (ctx.params.NewDescription !== undefined) details.description = ctx.params.NewDescription;
    details.maxSessionDuration =
      maxSessionDuration(ctx.params, 'NewMaxSessionDuration') ?? details.maxSessionDuration;
    details.updateDate = now();
    return { body: { Role: renderRole(ctx, role) } };
  }),

  // F-RAM-DELETEROLE: a role that still holds policies is refused; they are detached first.
  DeleteRole: write((ctx) => {
    const { roleName } = existingRole(ctx);
    if ((ctx.catalog.attachments.get(roleName) ?? []).length > 0)
      throw new AcsError(RAM_ERRORS.DeleteConflictRolePolicy);
    ctx.identities.roles.delete(roleName);
    ctx.catalog.roles.delete(roleName);
    ctx.catalog.attachments.delete(roleName);
    return { body: {} };
  }),

  CreatePolicy: write((ctx) => {
    const policyName = required(ctx.params, 'PolicyName');
    if (ctx.catalog.policies.has(policyName)) throw new AcsError(RAM_ERRORS.EntityAlreadyExistsPolicy);
    const created = now();
    const policy: CustomPolicy = {
      policyName,
      description: ctx.params.Description ?? '',
      createDate: created,
      updateDate: created,
      defaultVersion: 'v1',
      versions: [
        { versionId: 'v1', document: policyDocument(ctx.params, 'PolicyDocument'), createDate: created },
      ],
      nextVersion: 2,
    };
    ctx.catalog.policies.set(policyName, policy);
    return { body: { Policy: renderPolicy(policy) } };
  }),

  GetPolicy: read((ctx) => {
    const policy = customPolicy(ctx);
    const version = defaultVersionOf(policy);
    // Every user, group and role that holds it (F-RAM-LISTENTITIESFORPOLICY).
    const held = ctx.catalog.holdersOf({ type: 'Custom', policyName: policy.policyName });
    return {
      body: {
        Policy: {
          ...renderPolicy(policy),
          PolicyDocument: version.document,
          AttachmentCount: held.users.length + held.groups.length + held.roles.length,
        },
        DefaultPolicyVersion: renderVersion(policy, version),
      },
    };
  }),

  GetPolicyVersion: read((ctx) => {
    const policy = customPolicy(ctx);
    const versionId = required(ctx.params, 'VersionId');
    const version = policy.versions.find((v) => v.versionId === versionId);
    if (!version) throw new AcsError(RAM_ERRORS.EntityNotExistPolicyVersion);
    return { body: { PolicyVersion: renderVersion(policy, version) } };
  }),

  CreatePolicyVersion: write((ctx) => {
    const policy = customPolicy(ctx);
    const document = policyDocument(ctx.params, 'PolicyDocument');
    if (policy.versions.length >= MAX_POLICY_VERSIONS) {
      const oldest = policy.versions.find((v) => v.versionId !== policy.defaultVersion);
      if (ctx.params.RotateStrategy !== 'DeleteOldestNonDefaultVersionWhenLimitExceeded' || !oldest) {
        throw new AcsError(RAM_ERRORS.LimitExceededPolicyVersion);
      }
      policy.versions.splice(policy.versions.indexOf(oldest), 1);
    }
    const version: PolicyVersion = { versionId: `v${policy.nextVersion}`, document, createDate: now() };
    policy.nextVersion += 1;
    policy.versions.push(version);
    if (booleanParam(ctx.params, 'SetAsDefault')) policy.defaultVersion = version.versionId;
    policy.updateDate = version.createDate;
    return { body: { PolicyVersion: renderVersion(policy, version) } };
  }),
};
