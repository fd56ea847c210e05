import { EventParseError } from '../errors';
import { IDENTITY_POLICY_EVENTS } from '../events/names';
import type { ChangeRecord } from '../events/types';
import { evaluateRules } from '../pipeline/evaluate';
import type { CloudAction, Evaluation, Guard, Observation } from '../pipeline/types';
import { narrowException } from '../rule-exceptions';
import { type IdentityPolicySubject, identityPolicyRules } from '../rules';
import { keyExceptions } from './key-usage';

interface IdentityPolicyState {
  subject: IdentityPolicySubject;
  /** The fix this change allows, when there is one: what RAM holds now decides it, not the record. */
  fix?: { description: string; action: CloudAction; after: Record<string, string> };
  /**
   * The versions a rollback may make default again, newest first: each is judged too, and the first the rules
   * do not fire on is the one, so that a rollback never lands on a broad one.
   */
  fallbacks?: Array<{ versionId: string; document: string }>;
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
 * identity-policy-guard: identity policies that may grant OSS (CreatePolicy, CreatePolicyVersion,
 * AttachPolicyTo{User,Group,Role}), from the trail. The record only says which policy; its document is read
 * again from RAM (GetPolicy, GetPolicyVersion: F-RAM-POLICY-CALLS), never taken from the record's request
 * parameters. In enforce mode a broad system policy attached to a user is detached, and a custom policy whose
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

    if (target?.kind === 'User' && policyType === 'System') {
      const userName = named(change, target.param);
      if (!(await ram.userHasPolicy(userName, policyType, policyName)))
        return { kind: 'gone', reason: `${policyName} is no longer attached to ${userName}` };
      return {
        kind: 'present',
        state: {
          subject: { policyName, policyType, attachedTo: { kind: 'User', name: userName } },
          fix: {
            description: `detach ${policyName} from RAM user ${userName}`,
            action: { kind: 'detach-policy-from-user', userName, policyType, policyName },
            after: { attached: 'false' },
          },
        },
      };
    }
    if (policyType === 'System')
      return { kind: 'gone', reason: `system policy ${policyName} is judged by name only` };

    const current = await ram.defaultPolicyVersion(policyName);
    if (!current) return { kind: 'gone', reason: `custom policy ${policyName} no longer exists` };
    const subject: IdentityPolicySubject = {
      policyName,
      policyType,
      document: current.document,
      versionId: current.versionId,
      ...(target ? { attachedTo: { kind: target.kind, name: named(change, target.param) } } : {}),
    };
    if (change.eventName !== 'CreatePolicyVersion' && change.eventName !== 'SetDefaultPolicyVersion')
      return { kind: 'present', state: { subject } };
    // A new version matters only if it was made default; whichever version was made default is judged. RAM
    // does not say which version was default before (F-RAM-POLICY-CALLS): it is the newest other version the
    // rules do not fire on, since a broad one made default before was rolled back and kept (#21 item 3: never
    // delete a version). UNVERIFIED when a narrow version was created since without being made default.
    const versions = await ram.policyVersions(policyName);
    const at = versions.findIndex((v) => v.versionId === current.versionId);
    if (change.eventName === 'CreatePolicyVersion' && at !== versions.length - 1)
      return { kind: 'gone', reason: `the new version of ${policyName} is not its default version` };
    const others = versions.filter((v) => v.versionId !== current.versionId).reverse();
    if (others.length === 0) return { kind: 'present', state: { subject } };
    const fallbacks = [];
    for (const { versionId } of others)
      fallbacks.push({ versionId, document: await ram.policyDocument(policyName, versionId) });
    return { kind: 'present', state: { subject, fallbacks } };
  },

  evaluate(change, { subject, fix: detach, fallbacks }, { config, now }): Evaluation {
    const found = evaluateRules(identityPolicyRules, subject, config);
    // A rollback onto a version the rules fire on too would only swap one broad grant for another.
    const fallback = fallbacks?.find(
      (version) => evaluateRules(identityPolicyRules, { ...subject, ...version }, config).length === 0,
    );
    const fallbackFires = fallbacks !== undefined && fallback === undefined;
    const { policyName } = subject;
    const fix =
      detach ??
      (fallback && {
        description: `set version ${fallback.versionId} of ${policyName} back as default`,
        action: { kind: 'set-default-policy-version' as const, policyName, versionId: fallback.versionId },
        after: { defaultVersion: fallback.versionId },
      });
    // Without a fix for this change (a new policy, a custom policy attached), enforce mode can only alert.
    const findings = fix ? found : found.map((f) => ({ ...f, mode: 'alert' as const }));
    return {
      findings,
      // A user may be excepted by name (exceptions.users), like for the key guards, for the rules it names.
      exceptions:
        subject.attachedTo?.kind === 'User'
          ? narrowException(
              keyExceptions(
                undefined,
                { userName: subject.attachedTo.name, tags: {} },
                config,
                now,
                change.accountId,
              ),
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
            alertReason: `every other version of ${policyName} is as broad, none to roll back to: a person must choose`,
          }
        : {}),
      ...(fix ? { fix: { description: fix.description, actions: [fix.action], after: fix.after } } : {}),
      advice: findings.flatMap((f) =>
        typeof f.evidence.narrower === 'string' ? [`Grant instead: ${f.evidence.narrower}`] : [],
      ),
    };
  },
};
