import { policyRule } from './rule';

export const wildcardAction = policyRule('wildcard-action', {
  title: 'Bucket policy grants wildcard actions',
  rationale:
    'Wildcards such as oss:* quietly include bucket administration (PutBucketPolicy, PutBucketAcl, ' +
    'DeleteBucket): a grantee who can rewrite the policy can grant itself, or anyone, everything.',
});
