import { EventParseError } from '../errors';
import { IDENTITY_POLICY_EVENTS } from '../events/names';
import type { ChangeRecord } from '../events/types';
import { evaluateRules } from '../pipeline/evaluate';
import type { CloudAction, Evaluation, Guard, Observation } from '../pipeline/types';
import { narrowException } from '../rule-exceptions';
import { findRule, type IdentityPolicySubject, identityPolicyRules } from '../rules';
import { principalOf } from '../rules/identity-policy/subject';
import { keyExceptions } from './key-usage';

interface IdentityPolicyState {
  subject: IdentityPolicySubject;
  /** The fix this change allows, when there is one: what RAM holds now decides it, not the record. */
  fix?: { description: string; action: CloudAction; after: Record<string, string> };
  /** The version the fix would make default again: judged too, so that a rollback never lands on a broad one. */
  fallback?: { versionId: string; document: string };
}

const ATTACH_TARGETS = {
  AttachPolicyToUser: { kind: 'User', param: 'UserName' },
  AttachPolicyToGroup: { kind: 'Group', param: 'GroupName' },
  AttachPolicyToRole: { kind: 'Role', param: 'RoleName' },
} as const;

/**
 * Whether a principal is the role ossguard runs as (`ownRoleName`, the function role): never detached from,
 * as ossguard would cut its own rights. RAM role names are case-insensitive (F-RAM-GETROLE's lower-case ARNs).
 */
function isOwnRoleName(principal: IdentityPolicySubject['attachedTo'], ownRoleName: string): boolean {
  return principal?.kind === 'Role' && principal.name.toLowerCase() === ownRoleName.toLowerCase();
}

function named(change: ChangeRecord, param: string): string {
  const value = change.requestParameters[param];
  if (!value)
    throw new EventParseError(`${change.eventName} record names no ${param}`, { eventId: change.eventId });
  return value;
}

/**
 * identity-policy-guard: identity policies that may grant OSS (CreatePolicy, CreatePolicyVersion,
 * AttachPolicyTo{User,Group,Role}), from the trail. The record only says which policy; its document is read
 * again from RAM (GetPolicy, GetPolicyVersion: F-RAM-POLICY-CALLS), never taken from the record's request
 * parameters, and whether an attached policy is still attached is asked of RAM (ListEntitiesForPolicy,
 * F-RAM-LISTENTITIESFORPOLICY). In enforce mode AliyunOSSFullAccess attached to a user, group or role is detached
 * (never from ossguard's own role; AdministratorAccess is only alerted: admin-policy-attached), and a custom policy whose
 * new default version is too broad gets its previous version back as default; no version is ever deleted, and
 * a new policy nothing uses yet (CreatePolicy) is only alerted.
 */
export const identityPolicyGuard: Guard<IdentityPolicyState> = {
  name: 'identity-policy-guard',
  events: IDENTITY_POLICY_EVENTS,

  async observe(change, scope): Promise<Observation<IdentityPolicyState>> {
    if (!scope.ram) throw new Error('identity-policy-guard was built without RAM clients: pass createRamApi');
    const ram = scope.ram;
    const policyName = named(change, 'PolicyName');
    const policyType = change.requestParameters.PolicyType === 'System' ? 'System' : 'Custom';
    const target = ATTACH_TARGETS[change.eventName as keyof typeof ATTACH_TARGETS];
    const attachedTo = target ? { kind: target.kind, name: named(change, target.param) } : undefined;
    // An attach is judged only while it holds: RAM says who holds the policy now, not the record.
    if (attachedTo && !(await ram.policyAttachedTo(policyType, policyName, attachedTo)))
      return { kind: 'gone', reason: `${policyName} is no longer attached to ${principalOf(attachedTo)}` };

    if (policyType === 'System') {
      if (!attachedTo) return { kind: 'gone', reason: `system policy ${policyName} is judged by name only` };
      return {
        kind: 'present',
        state: {
          subject: { policyName, policyType, attachedTo },
          fix: {
            description: `detach ${policyName} from ${principalOf(attachedTo)}`,
            action: { kind: 'detach-policy', principal: attachedTo, policyType, policyName },
            after: { attached: 'false' },
          },
        },
      };
    }

    const current = await ram.defaultPolicyVersion(policyName);
    if (!current) return { kind: 'gone', reason: `custom policy ${policyName} no longer exists` };
    const subject: IdentityPolicySubject = {
      policyName,
      policyType,
      document: current.document,
      versionId: current.versionId,
      ...(attachedTo ? { attachedTo } : {}),
    };
    if (change.eventName !== 'CreatePolicyVersion' && change.eventName !== 'SetDefaultPolicyVersion')
      return { kind: 'present', state: { subject } };
    // A new version matters only if it was made default; whichever version was made default is judged. The
    // version created before it is what was in force (UNVERIFIED that no other version was default in between:
    // F-RAM-POLICY-CALLS), or for SetDefaultPolicyVersion the newest other version.
    const versions = await ram.policyVersions(policyName);
    const at = versions.findIndex((v) => v.versionId === current.versionId);
    if (change.eventName === 'CreatePolicyVersion' && at !== versions.length - 1)
      return { kind: 'gone', reason: `the new version of ${policyName} is not its default version` };
    const others = versions.filter((v) => v.versionId !== current.versionId);
    const previous = change.eventName === 'CreatePolicyVersion' ? versions[at - 1] : others.at(-1);
    if (!previous) return { kind: 'present', state: { subject } };
    return {
      kind: 'present',
      state: {
        subject,
        fallback: {
          versionId: previous.versionId,
          document: await ram.policyDocument(policyName, previous.versionId),
        },
        fix: {
          description: `set version ${previous.versionId} of ${policyName} back as default`,
          action: { kind: 'set-default-policy-version', policyName, versionId: previous.versionId },
          after: { defaultVersion: previous.versionId },
        },
      },
    };
  },

  evaluate(_change, { subject, fix: planned, fallback }, { config, now }): Evaluation {
    const found = evaluateRules(identityPolicyRules, subject, config);
    // A rollback onto a version the rules fire on too would only swap one broad grant for another.
    const fallbackFires =
      fallback !== undefined &&
      evaluateRules(identityPolicyRules, { ...subject, ...fallback }, config).length > 0;
    const ownRole = planned !== undefined && isOwnRoleName(subject.attachedTo, config.ownRoleName);
    const fix = fallbackFires || ownRole ? undefined : planned;
    // Without a fix for this change (a new policy, a custom policy attached, ossguard's own role), or for a rule
    // that declares none (AdministratorAccess), enforce mode can only alert.
    const findings = found.map((f) =>
      fix && findRule(f.ruleId)?.remediation ? f : { ...f, mode: 'alert' as const },
    );
    return {
      findings,
      // A user may be excepted by name (exceptions.users), like for the key guards, for the rules it names.
      exceptions:
        subject.attachedTo?.kind === 'User'
          ? narrowException(
              keyExceptions(undefined, { userName: subject.attachedTo.name, tags: {} }, config, now),
              found.map((f) => f.ruleId),
            )
          : { ignored: [] },
      before: {
        policy: subject.policyName,
        type: subject.policyType,
        version: subject.versionId ?? null,
        attachedTo: subject.attachedTo ? `${subject.attachedTo.kind}:${subject.attachedTo.name}` : null,
      },
      compliantReason: 'no rule fired: the policy grants no broad OSS rights',
      ...(fallbackFires
        ? {
            alertReason: `version ${fallback?.versionId} of ${subject.policyName}, the one to roll back to, is as broad: a person must choose`,
          }
        : ownRole
          ? {
              alertReason: `${subject.policyName} is never detached from ossguard's own role: a person must choose`,
            }
          : {}),
      ...(fix ? { fix: { description: fix.description, actions: [fix.action], after: fix.after } } : {}),
      advice: findings.flatMap((f) =>
        typeof f.evidence.narrower === 'string' ? [`Grant instead: ${f.evidence.narrower}`] : [],
      ),
    };
  },
};
