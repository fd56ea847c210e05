import { policyRule } from './rule';

export const foreignAccountPrincipal = policyRule('foreign-account-principal', {
  title: 'Bucket policy grants an unknown account',
  rationale:
    'Principals that are neither the owner account nor a trusted account are a classic path for data ' +
    'to leave the organisation; every outside grantee should be known and listed.',
  firesWhen:
    "a principal is neither the owner account, nor in `policy.trustedAccounts`, nor one of the owner's RAM users or roles listed in `policy.knownPrincipals` (a RAM user's UID looks like an account UID)",
  severityNote: 'medium (high with writes)',
});
