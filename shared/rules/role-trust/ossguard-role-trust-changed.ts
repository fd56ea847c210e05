import { functionTrustVerdict, memberTrustVerdict } from '../../deployment/trust';
import { ROLE_TRUST_EVENTS } from '../../events/names';
import type { Rule } from '../types';
import type { RoleTrustSubject } from './subject';

/** The command that writes the role back as ossguard needs it, in the account it is in. */
const fixOf = (s: RoleTrustSubject): string =>
  s.role === 'member'
    ? `run \`ossguard bootstrap --account ${s.accountId}\` with that account's credentials: it trusts the function role alone again`
    : 'run `ossguard bootstrap` in the deploying account: it writes the function role’s trust policy back (Function Compute alone)';

/** What is left unjudged until then: changes made as the role are taken for ossguard's own (dedupe.ts). */
const exposureOf = (s: RoleTrustSubject): string =>
  s.role === 'member'
    ? `until then, changes made in account ${s.accountId} as the member role ${s.roleName} under session name ossguard are not judged`
    : `until then, changes made as the function role ${s.roleName} are not judged`;

/**
 * A session of ossguard's roles is taken for ossguard's own and not judged (shared/pipeline/dedupe.ts). The member
 * role lives in the member, so that account's administrator can make it trust them too, assume it as `ossguard`,
 * and make changes the event path skips; the function role's trust, in the deploying account, matters the same
 * way. `ossguard doctor` reads the trust only when run: this rule reads it after every call that changed the role.
 * Alert only, in every mode: ossguard never rewrites a role's trust (a wrong guess would lock it out of the member,
 * or lock the people who run the account out of their role); bootstrap, run by a person, does.
 */
export const ossguardRoleTrustChanged: Rule<RoleTrustSubject> = {
  id: 'ossguard-role-trust-changed',
  events: ROLE_TRUST_EVENTS,
  title: 'A role ossguard acts as now trusts someone else, or is gone',
  rationale:
    'Changes made as ossguard’s own roles are not judged. Whoever a role’s trust policy lets in can act as ' +
    'ossguard and go unjudged; a deleted role leaves ossguard unable to act in that account.',
  docUrl: 'https://www.alibabacloud.com/help/en/ram/developer-reference/api-ram-2015-05-01-updaterole',
  severity: 'critical',
  firesWhen:
    'after a call that changed the member role (`organization.memberRole`) in a member or the function role (its trust policy, `UpdateRole`; `DeleteRole`; a policy detached), its trust policy, re-read, names anyone but the function role (member role) or Function Compute (function role), or the role is gone',
  guard: 'role-trust-guard',
  defaultMode: 'alert',
  readActions: ['ram:GetRole'],
  evaluate: (s) => {
    const { ok, detail } =
      s.principals === undefined
        ? { ok: false, detail: 'the role no longer exists: ossguard cannot act in that account' }
        : s.role === 'member'
          ? memberTrustVerdict(s.principals, s.deployAccountId)
          : functionTrustVerdict(s.principals);
    if (ok) return undefined;
    return {
      ruleId: 'ossguard-role-trust-changed',
      severity: 'critical',
      message: `${s.role === 'member' ? 'member' : 'function'} role ${s.roleName} in account ${s.accountId}: ${detail}. Fix: ${fixOf(s)}; ${exposureOf(s)}`,
      evidence: {
        role: s.roleName,
        kind: s.role,
        account: s.accountId,
        principals: s.principals === undefined ? null : s.principals.join(','),
        deleted: s.principals === undefined,
        fix: fixOf(s),
      },
    };
  },
};
