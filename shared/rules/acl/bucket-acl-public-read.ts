import type { Rule } from '../types';
import { type AclSubject, SET_BUCKET_ACL_PRIVATE } from './subject';

export const bucketAclPublicRead: Rule<AclSubject> = {
  id: 'bucket-acl-public-read',
  title: 'Bucket ACL is public-read',
  rationale:
    'Anyone on the internet, without credentials, can list and download every object in the bucket. ' +
    'Alibaba Cloud recommends private ACLs and granting access through RAM or bucket policies instead.',
  docUrl: 'https://www.alibabacloud.com/help/en/oss/user-guide/bucket-acl',
  severity: 'high',
  firesWhen: 'the bucket ACL is `public-read`',
  guard: 'oss-acl-guard',
  events: ['PutBucket', 'PutBucketAcl'],
  order: 10,
  defaultMode: 'enforce',
  readActions: ['oss:GetBucketAcl'],
  remediation: SET_BUCKET_ACL_PRIVATE,
  evaluate: (subject) =>
    subject.kind === 'bucket' && subject.acl === 'public-read'
      ? {
          ruleId: 'bucket-acl-public-read',
          severity: 'high',
          message: `bucket ${subject.bucket} is readable by anyone (ACL public-read)`,
          evidence: { acl: subject.acl },
        }
      : undefined,
};
