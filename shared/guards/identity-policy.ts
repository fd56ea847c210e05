import { EventParseError } from '../errors';
import { IDENTITY_POLICY_EVENTS } from '../events/names';
import type { ChangeRecord } from '../events/types';
import { isOwnRoleName } from '../pipeline/dedupe';
import { evaluateRules } from '../pipeline/evaluate';
import type { ChangeScope, CloudAction, Evaluation, Guard, Observation } from '../pipeline/types';
import { narrowException } from '../rule-exceptions';
import { findRule, type IdentityPolicySubject, identityPolicyRules } from '../rules';
import { principalOf } from '../rules/identity-policy/subject';
import { keyExceptions } from './key-usage';

interface IdentityPolicyState {
  /**
   * The policies judged: the one a call named, or for AddUserToGroup each policy the group holds now (none: the
   * group grants nothing).
   */
  subjects: IdentityPolicySubject[];
  /** Who holds them, for the audit record, when the call named someone. */
  holder?: { attachedTo: NonNullable<IdentityPolicySubject['attachedTo']>; member?: string };
  /** The fix this change allows, when there is one: what RAM holds now decides it, not the record. */
  fix?: { description: string; action: CloudAction; after: Record<string, string> };
  /**
   * The versions a rollback may make default again, newest first: each is judged too, and the first the rules
   * do not fire on is the one, so that a rollback never lands on a broad one.
   */
  fallbacks?: Array<{ versionId: string; document: string }>;
  /** Why a change with a finding is only alerted, when observe already knows. */
  alertReason?: string;
}

/** Sets the version judged (the default now) back to `versionId`, written only over the judged one (act.ts). */
function rollbackTo(subject: IdentityPolicySubject, versionId: string): IdentityPolicyState['fix'] {
  const { policyName } = subject;
  return {
    description: `set version ${versionId} of ${policyName} back as default`,
    action: { kind: 'set-default-policy-version', policyName, versionId, replaces: subject.versionId ?? '' },
    after: { defaultVersion: versionId },
  };
}

const ATTACH_TARGETS = {
  AttachPolicyToUser: { kind: 'User', param: 'UserName' },
  AttachPolicyToGroup: { kind: 'Group', param: 'GroupName' },
  AttachPolicyToRole: { kind: 'Role', param: 'RoleName' },
} as const;

function named(change: ChangeRecord, param: string): string {
  const value = change.requestParameters[param];
  if (!value)
    throw new EventParseError(`${change.eventName} record names no ${param}`, { eventId: change.eventId });
  return value;
}

/**
 * AddUserToGroup: the user now holds every policy of the group. Each is judged as RAM holds it now (the
 * membership with ListGroupsForUser, the policies with ListPoliciesForGroup, a custom one's default version with
 * GetPolicyVersion), alert only: removing the user from the group would take every right the group grants, not
 * only OSS's, and the broad grant is the group's, repaired on the group's own attach event.
 */
async function joinedGroup(
  change: ChangeRecord,
  ram: NonNullable<ChangeScope['ram']>,
): Promise<Observation<IdentityPolicyState>> {
  // RAM's call names the user, IMS's (the console's) its logon name: the parser's ramUser is either's user name.
  const member = change.resources.ramUser;
  if (!member) throw new EventParseError('AddUserToGroup record names no user', { eventId: change.eventId });
  const group = await ram.memberOf(member, named(change, 'GroupName'));
  if (!group) return { kind: 'gone', reason: `RAM user ${member} is no longer a member of the group` };
  const attachedTo = { kind: 'Group', name: group } as const;
  const subjects = await Promise.all(
    (await ram.groupPolicies(group)).map(async ({ policyType, policyName }) => {
      const subject: IdentityPolicySubject = { policyName, policyType, attachedTo, member };
      const current = policyType === 'Custom' ? await ram.defaultPolicyVersion(policyName) : undefined;
      return current ? { ...subject, document: current.document, versionId: current.versionId } : subject;
    }),
  );
  return { kind: 'present', state: { subjects, holder: { attachedTo, member } } };
}

/**
 * The version a CreatePolicyVersion (set as default) or SetDefaultPolicyVersion made default is no longer the
 * default: it was in force for a while, so it is judged, alert only, as RAM holds it (a version never changes once
 * created; GetPolicyVersion, F-RAM-POLICY-CALLS). The record names it (F-RAM-POLICY-VERSION-IN-RECORD).
 */
async function replacedSince(
  change: ChangeRecord,
  ram: NonNullable<ChangeScope['ram']>,
  policyName: string,
  made: string,
  now: string,
): Promise<Observation<IdentityPolicyState>> {
  if (
    change.eventName === 'CreatePolicyVersion' &&
    change.requestParameters.SetAsDefault?.toLowerCase() !== 'true'
  )
    return {
      kind: 'gone',
      reason: `the new version ${made} of ${policyName} was not made its default version`,
    };
  const versions = await ram.policyVersions(policyName);
  if (!versions.some((v) => v.versionId === made))
    return { kind: 'gone', reason: `version ${made} of ${policyName} no longer exists` };
  return {
    kind: 'present',
    state: {
      subjects: [
        {
          policyName,
          policyType: 'Custom',
          versionId: made,
          document: await ram.policyDocument(policyName, made),
        },
      ],
      alertReason: `version ${made} of ${policyName}, made default by this call, is no longer its default (${now} is): it was in force for a while, and nothing is left to roll back`,
    },
  };
}

/**
 * identity-policy-guard: identity policies that may grant OSS (CreatePolicy, CreatePolicyVersion,
 * AttachPolicyTo{User,Group,Role}, and AddUserToGroup, by which a user comes to hold a group's policies), from
 * the trail. The record only says which policy; its document is read again from RAM (GetPolicy,
 * GetPolicyVersion: F-RAM-POLICY-CALLS), never taken from the record's request parameters, and who holds an
 * attached policy is asked of RAM (ListEntitiesForPolicy, F-RAM-LISTENTITIESFORPOLICY), under the spelling RAM
 * lists (F-RAM-NAME-CASE). An attach detached since is still alerted: it granted while it lasted. In enforce mode
 * AliyunOSSFullAccess attached to a user, group or role is detached (never from ossguard's own role;
 * AdministratorAccess is only alerted: admin-policy-attached), and a custom policy whose new default version is
 * too broad gets its previous version back as default; no version is ever deleted, and a new policy nothing uses
 * yet (CreatePolicy) is only alerted.
 */
export const identityPolicyGuard: Guard<IdentityPolicyState> = {
  name: 'identity-policy-guard',
  events: IDENTITY_POLICY_EVENTS,

  async observe(change, scope): Promise<Observation<IdentityPolicyState>> {
    if (!scope.ram) throw new Error('identity-policy-guard was built without RAM clients: pass createRamApi');
    const ram = scope.ram;
    if (change.eventName === 'AddUserToGroup') return joinedGroup(change, ram);
    const policyName = named(change, 'PolicyName');
    const policyType = change.requestParameters.PolicyType === 'System' ? 'System' : 'Custom';
    const target = ATTACH_TARGETS[change.eventName as keyof typeof ATTACH_TARGETS];
    const called = target ? { kind: target.kind, name: named(change, target.param) } : undefined;
    // Who holds the policy is what RAM lists now, not the record; an attach undone since is judged, alert only.
    const holder = called && (await ram.policyHolder(policyType, policyName, called));
    const attachedTo = called && { kind: called.kind, name: holder ?? called.name };
    const held = attachedTo ? { attachedTo, ...(holder ? {} : { detachedSince: true as const }) } : {};

    if (policyType === 'System') {
      if (!attachedTo) return { kind: 'gone', reason: `system policy ${policyName} is judged by name only` };
      return {
        kind: 'present',
        state: {
          subjects: [{ policyName, policyType, ...held }],
          holder: { attachedTo },
          // Only a holder spelled as the call named it is surely the one the call attached to: if RAM tells names
          // apart by case, another spelling is another principal, and its grant is not this change's to undo.
          ...(holder !== undefined && holder !== called?.name
            ? {
                alertReason: `RAM lists ${principalOf(attachedTo)}, not the ${called?.name} the call named: whether they are one is unverified (F-RAM-NAME-CASE), a person must choose`,
              }
            : {}),
          ...(holder === called?.name
            ? {
                fix: {
                  description: `detach ${policyName} from ${principalOf(attachedTo)}`,
                  action: { kind: 'detach-policy', principal: attachedTo, policyType, policyName },
                  after: { attached: 'false' },
                },
              }
            : {}),
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
      ...held,
    };
    const base = { subjects: [subject], ...(attachedTo ? { holder: { attachedTo } } : {}) };
    if (change.eventName !== 'CreatePolicyVersion' && change.eventName !== 'SetDefaultPolicyVersion')
      return { kind: 'present', state: base };
    const made = change.resources.policyVersionId;
    if (made && made !== current.versionId)
      return replacedSince(change, ram, policyName, made, current.versionId);
    // A new version matters only if it was made default; whichever version was made default is judged. RAM
    // does not say which version was default before (F-RAM-POLICY-CALLS): it is the newest other version the
    // rules do not fire on, since a broad one made default before was rolled back and kept (#21 item 3: never
    // delete a version). UNVERIFIED when a narrow version was created since without being made default.
    const versions = await ram.policyVersions(policyName);
    const at = versions.findIndex((v) => v.versionId === current.versionId);
    if (change.eventName === 'CreatePolicyVersion' && at !== versions.length - 1)
      return { kind: 'gone', reason: `the new version of ${policyName} is not its default version` };
    const others = versions.filter((v) => v.versionId !== current.versionId).reverse();
    if (others.length === 0) return { kind: 'present', state: base };
    const fallbacks = [];
    for (const { versionId } of others)
      fallbacks.push({ versionId, document: await ram.policyDocument(policyName, versionId) });
    return { kind: 'present', state: { ...base, fallbacks } };
  },

  evaluate(change, { subjects, holder, fix: detach, fallbacks, alertReason }, { config, now }): Evaluation {
    const found = subjects.flatMap((subject) => evaluateRules(identityPolicyRules, subject, config));
    const [subject] = subjects;
    // A rollback onto a version the rules fire on too would only swap one broad grant for another.
    const fallback =
      subject &&
      fallbacks?.find(
        (version) => evaluateRules(identityPolicyRules, { ...subject, ...version }, config).length === 0,
      );
    const fallbackFires = fallbacks !== undefined && fallback === undefined;
    const planned = detach ?? (fallback && subject ? rollbackTo(subject, fallback.versionId) : undefined);
    // Compared under the spelling RAM lists (observe): another role spelled like ossguard's is judged.
    const ownRole =
      planned !== undefined &&
      holder?.attachedTo.kind === 'Role' &&
      isOwnRoleName(holder.attachedTo.name, config.ownRoleName);
    const fix = ownRole ? undefined : planned;
    // Without a fix for this change (a new policy, a custom policy attached, an attach undone since, a user who
    // joined a group, ossguard's own role), or for a rule that declares none (AdministratorAccess), enforce mode
    // can only alert.
    const findings = found.map((f) =>
      fix && findRule(f.ruleId)?.remediation ? f : { ...f, mode: 'alert' as const },
    );
    // A user may be excepted by name (exceptions.users), like for the key guards, for the rules it names: the
    // user a policy was attached to, or the one who joined a group.
    const user = holder?.attachedTo.kind === 'User' ? holder.attachedTo.name : holder?.member;
    const policies = subjects.map((s) => s.policyName).join(',');
    return {
      findings,
      exceptions: user
        ? narrowException(
            keyExceptions(undefined, { userName: user, tags: {} }, config, now, change.accountId),
            found.map((f) => f.ruleId),
          )
        : { ignored: [] },
      before: {
        policy: policies || null,
        type: subjects.map((s) => s.policyType).join(',') || null,
        version: subject?.versionId ?? null,
        attachedTo: holder ? `${holder.attachedTo.kind}:${holder.attachedTo.name}` : null,
        ...(holder?.member ? { member: holder.member } : {}),
        ...(subject?.detachedSince ? { attached: false } : {}),
      },
      compliantReason: holder?.member
        ? `no rule fired: the group's policies (${policies || 'none'}) grant no broad OSS rights`
        : 'no rule fired: the policy grants no broad OSS rights',
      ...(fallbackFires
        ? {
            alertReason: `every other version of ${policies} is as broad, none to roll back to: a person must choose`,
          }
        : ownRole
          ? {
              alertReason: `${policies} is never detached from ossguard's own role: a person must choose`,
            }
          : alertReason
            ? { alertReason }
            : {}),
      ...(fix ? { fix: { description: fix.description, actions: [fix.action], after: fix.after } } : {}),
      advice: findings.flatMap((f) =>
        typeof f.evidence.narrower === 'string' ? [`Grant instead: ${f.evidence.narrower}`] : [],
      ),
    };
  },
};
