import type { Rule } from '../types';
import type { AclSubject } from './subject';

/**
 * The guard evaluates this rule only after a Block Public Access change on the bucket: BPA is off by default,
 * so judging every bucket's state would flag buckets nobody touched.
 */
export const bucketBpaDisabled: Rule<AclSubject> = {
  id: 'bucket-bpa-disabled',
  title: 'Block Public Access was switched off on a bucket',
  rationale:
    'Block Public Access makes OSS ignore public ACLs and public bucket policies. Switching it off re-exposes ' +
    'whatever public grants exist and lets new ones take effect.',
  docUrl: 'https://www.alibabacloud.com/help/en/oss/user-guide/block-public-access',
  severity: 'high',
  firesWhen: 'Block Public Access was switched off on a bucket',
  guard: 'oss-acl-guard',
  events: ['PutBucketPublicAccessBlock', 'DeleteBucketPublicAccessBlock'],
  order: 40,
  defaultMode: 'enforce',
  readActions: ['oss:GetBucketPublicAccessBlock'],
  remediation: {
    id: 'enable-bucket-bpa',
    description: 'switch Block Public Access back on for the bucket',
    actions: ['oss:PutBucketPublicAccessBlock'],
  },
  evaluate: (subject) =>
    subject.kind === 'bucket-bpa' && !subject.blockPublicAccess
      ? {
          ruleId: 'bucket-bpa-disabled',
          severity: 'high',
          message: `Block Public Access is off on bucket ${subject.bucket}`,
          evidence: { blockPublicAccess: false },
        }
      : undefined,
};
