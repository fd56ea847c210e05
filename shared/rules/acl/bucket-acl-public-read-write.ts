import type { Rule } from '../types';
import { type AclSubject, SET_BUCKET_ACL_PRIVATE } from './subject';

export const bucketAclPublicReadWrite: Rule<AclSubject> = {
  id: 'bucket-acl-public-read-write',
  title: 'Bucket ACL is public-read-write',
  rationale:
    'Anyone can read, overwrite and delete objects, and upload their own: data loss, malware hosting, ' +
    'and the owner pays for the storage and traffic. Alibaba Cloud warns against this ACL in every case.',
  docUrl: 'https://www.alibabacloud.com/help/en/oss/user-guide/bucket-acl',
  severity: 'critical',
  firesWhen: 'the bucket ACL is `public-read-write`',
  guard: 'oss-acl-guard',
  events: ['PutBucket', 'PutBucketAcl'],
  order: 20,
  defaultMode: 'enforce',
  readActions: ['oss:GetBucketAcl'],
  remediation: SET_BUCKET_ACL_PRIVATE,
  evaluate: (subject) =>
    subject.kind === 'bucket' && subject.acl === 'public-read-write'
      ? {
          ruleId: 'bucket-acl-public-read-write',
          severity: 'critical',
          message: `bucket ${subject.bucket} can be read and written by anyone (ACL public-read-write)`,
          evidence: { acl: subject.acl },
        }
      : undefined,
};
