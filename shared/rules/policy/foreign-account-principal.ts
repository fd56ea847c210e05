import { isWriteAction } from '../../policy/actions';
import { foreignPrincipals, list, rewrite, scope } from '../../policy/statement';
import { policyRule } from './rule';

export const foreignAccountPrincipal = policyRule({
  id: 'foreign-account-principal',
  order: 70,
  title: 'Bucket policy grants an unknown account',
  rationale:
    'Principals that are neither the owner account nor a trusted account are a classic path for data ' +
    'to leave the organisation; every outside grantee should be known and listed.',
  docUrl: 'https://www.alibabacloud.com/help/en/ram/identify-external-access',
  severity: 'medium',
  firesWhen:
    "a principal is neither the owner account, nor in `policy.trustedAccounts`, nor one of the owner's RAM users or roles listed in `policy.knownPrincipals` (a RAM user's UID looks like an account UID)",
  severityNote: 'medium (high with writes)',
  check: (s, env) => {
    const foreign = foreignPrincipals(s, env);
    if (s.effect !== 'Allow' || foreign.length === 0) return undefined;
    const writes = s.actions.some(isWriteAction);
    const kept = s.principals.filter((p) => !foreign.includes(p));
    return {
      severity: writes ? 'high' : 'medium',
      message:
        `${list(foreign)} ${foreign.length === 1 ? 'is' : 'are'} neither the owner account ` +
        `${env.ctx.ownerAccountId || '(unknown: pass the owner)'}, a known RAM identity nor a trusted account, ` +
        `and may call ${scope(s)}${writes ? ', including writes' : ''}`,
      fix:
        (kept.length > 0 ? `drop them: ${rewrite(s, { Principal: kept })}` : 'remove this statement') +
        `; or, if they are partners, list them in policy.trustedAccounts (--trusted); if they are the owner's RAM users or roles, in policy.knownPrincipals (--known)`,
    };
  },
});
