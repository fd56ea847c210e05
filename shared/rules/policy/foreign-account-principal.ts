import { policyRule } from './rule';

export const foreignAccountPrincipal = policyRule('foreign-account-principal', {
  title: 'Bucket policy grants an unknown account',
  rationale:
    'Principals that are neither the owner account nor a trusted account are a classic path for data ' +
    'to leave the organisation; every outside grantee should be known and listed.',
});
