import { AcsError } from '../acs/errors';
import { type ActionContext, type ActionTable, read, required, write } from './actions';
import type { Attachment } from './catalog';
import { RAM_ERRORS } from './errors';
import { customPolicy, now, policyType, renderVersion } from './roles';

/**
 * Policies of RAM users and the versions of custom policies (RAM 2015-05-01; F-RAM-POLICY-CALLS): what
 * identity-policy-guard reads and repairs. System policies are attached by name and never read.
 */

function existingUser(ctx: ActionContext): string {
  const userName = required(ctx.params, 'UserName');
  if (!ctx.identities.users.has(userName)) throw new AcsError(RAM_ERRORS.EntityNotExistUser);
  return userName;
}

/** The policy a call names: a custom one must exist, a system one is taken by name. */
function namedPolicy(ctx: ActionContext): { type: 'System' | 'Custom'; policyName: string } {
  const type = policyType(ctx.params);
  const policyName = type === 'Custom' ? customPolicy(ctx).policyName : required(ctx.params, 'PolicyName');
  return { type, policyName };
}

const matches = (a: Attachment, p: { type: string; policyName: string }) =>
  a.policyType === p.type && a.policyName === p.policyName;

export const POLICY_ACTIONS: ActionTable = {
  AttachPolicyToUser: write((ctx) => {
    const userName = existingUser(ctx);
    const policy = namedPolicy(ctx);
    const attached = ctx.catalog.userAttachments.get(userName) ?? [];
    if (attached.some((a) => matches(a, policy)))
      throw new AcsError(RAM_ERRORS.EntityAlreadyExistsUserPolicy);
    attached.push({ policyType: policy.type, policyName: policy.policyName, attachDate: now() });
    ctx.catalog.userAttachments.set(userName, attached);
    return { body: {} };
  }),

  DetachPolicyFromUser: write((ctx) => {
    const userName = existingUser(ctx);
    const policy = namedPolicy(ctx);
    const attached = ctx.catalog.userAttachments.get(userName) ?? [];
    const at = attached.findIndex((a) => matches(a, policy));
    if (at < 0) throw new AcsError(RAM_ERRORS.EntityNotExistUserPolicy);
    attached.splice(at, 1);
    return { body: {} };
  }),

  ListPoliciesForUser: read((ctx) => ({
    body: {
      Policies: {
        Policy: (ctx.catalog.userAttachments.get(existingUser(ctx)) ?? []).map((a) => ({
          PolicyName: a.policyName,
          PolicyType: a.policyType,
          AttachDate: a.attachDate,
        })),
      },
    },
  })),

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
