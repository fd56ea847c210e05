import { policyRule } from './rule';

export const wildcardAction = policyRule('wildcard-action', {
  title: 'Bucket policy grants wildcard actions',
  rationale:
    'Wildcards such as oss:* quietly include bucket administration (PutBucketPolicy, PutBucketAcl, ' +
    'DeleteBucket): a grantee who can rewrite the policy can grant itself, or anyone, everything.',
  firesWhen: 'an action wildcard reaches bucket administration or mixes reads and writes',
  severityNote: 'medium (high outside the account, low for reads+writes)',
});
