import { trustedPrincipals } from '../deployment/role-policy';
import { EventParseError } from '../errors';
import { ROLE_TRUST_EVENTS } from '../events/names';
import type { ChangeRecord } from '../events/types';
import { evaluateRules } from '../pipeline/evaluate';
import type { ChangeScope, Evaluation, Guard, Observation } from '../pipeline/types';
import { type RoleTrustSubject, roleTrustRules } from '../rules';

/**
 * Which of ossguard's roles a call in `change`'s account names: the function role in the deploying account (or
 * any account, without an organization: every change is then the function role's to read), the member role in a
 * member. Compared without case: whether RAM tells role names apart by case is unverified (F-RAM-NAME-CASE), and a
 * call spelled otherwise may have changed ossguard's role; a role merely spelled like it costs one GetRole.
 */
function roleOf(
  change: ChangeRecord,
  roleName: string,
  scope: ChangeScope,
): RoleTrustSubject['role'] | undefined {
  const { organization, ownRoleName } = scope.config;
  const home = !organization || change.accountId === undefined || change.accountId === scope.deployAccountId;
  const own = home ? ownRoleName : organization.memberRole;
  if (roleName.toLowerCase() !== own.toLowerCase()) return undefined;
  return home ? 'function' : 'member';
}

/** What an UpdateRole's trust document counts as when it names no one the parser can read (cut, or malformed). */
const UNREAD_ASKED_TRUST = 'a trust document in the UpdateRole record that could not be read';

/**
 * role-trust-guard: calls that change a role ossguard acts as (UpdateRole, DeleteRole, DetachPolicyFromRole:
 * ROLE_TRUST_EVENTS), in the deploying account (the function role) and in the members (the member role, read
 * through it: the member's clients, shared/pipeline/accounts.ts). A session of those roles is taken for ossguard's
 * own and not judged (shared/pipeline/dedupe.ts), so whoever their trust lets in acts unjudged. The trust policy
 * is read again with GetRole (F-RAM-GETROLE) and judged as doctor judges it (shared/deployment/trust.ts); the
 * record's `NewAssumeRolePolicyDocument` (F-RAM-UPDATEROLE) only adds to what that read finds (observe). Alert
 * only: a role's trust is never rewritten; the alert names the bootstrap that does.
 */
export const roleTrustGuard: Guard<RoleTrustSubject> = {
  name: 'role-trust-guard',
  events: ROLE_TRUST_EVENTS,

  async observe(change, scope): Promise<Observation<RoleTrustSubject>> {
    if (!scope.ram) throw new Error('role-trust-guard was built without RAM clients: pass createRamApi');
    const roleName = change.requestParameters.RoleName;
    if (!roleName)
      throw new EventParseError(`${change.eventName} record names no RoleName`, { eventId: change.eventId });
    const role = roleOf(change, roleName, scope);
    if (!role) return { kind: 'gone', reason: `role ${roleName} is not a role ossguard acts as` };
    const trust = await scope.ram.roleTrust(roleName);
    // A trust widened and put back before either call is judged reads as it was: the trust the call asked for
    // is judged too. It can only add principals to what the live read finds, never clear a finding (a document
    // cut at the kept length does not parse, and is told as such).
    const asked = change.requestParameters.NewAssumeRolePolicyDocument;
    const askedPrincipals = asked ? trustedPrincipals(asked) : [];
    if (asked && askedPrincipals.length === 0) askedPrincipals.push(UNREAD_ASKED_TRUST);
    const live = trust ? trustedPrincipals(trust.document) : undefined;
    // Named as asked, not as trusted now: the alert must not say the role trusts what only the call asked for.
    const principals = live && [
      ...live,
      ...askedPrincipals.filter((p) => !live.includes(p)).map((p) => `${p} (asked for by this UpdateRole)`),
    ];
    return {
      kind: 'present',
      state: {
        roleName,
        role,
        accountId: change.accountId ?? scope.deployAccountId ?? 'unknown',
        ...(principals ? { principals } : {}),
        ...(scope.deployAccountId ? { deployAccountId: scope.deployAccountId } : {}),
      },
    };
  },

  evaluate(_change, subject, { config }): Evaluation {
    // No remediation exists: every mode alerts.
    const findings = evaluateRules(roleTrustRules, subject, config).map((f) => ({
      ...f,
      mode: 'alert' as const,
    }));
    return {
      findings,
      exceptions: { ignored: [] },
      before: {
        role: subject.roleName,
        kind: subject.role,
        trustedBy: subject.principals?.join(',') ?? null,
        ...(subject.principals === undefined ? { deleted: true } : {}),
      },
      compliantReason:
        subject.role === 'member'
          ? 'the member role is trusted by the function role alone'
          : 'the function role is trusted by Function Compute alone',
      alertReason:
        'a role’s trust is never rewritten by ossguard: a person runs the bootstrap the alert names',
    };
  },
};
