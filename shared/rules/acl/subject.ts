export type BucketAcl = 'private' | 'public-read' | 'public-read-write';
export type ObjectAcl = BucketAcl | 'default';

/** Live ACL state the ACL guard read for the resource an event named. */
export type AclSubject =
  | { kind: 'bucket'; bucket: string; acl: BucketAcl }
  | { kind: 'object'; bucket: string; key: string; acl: ObjectAcl }
  | { kind: 'bucket-bpa'; bucket: string; blockPublicAccess: boolean }
  | { kind: 'account-bpa'; blockPublicAccess: boolean };

/** The remediation both bucket-ACL rules share. */
export const SET_BUCKET_ACL_PRIVATE = {
  id: 'set-bucket-acl-private',
  description: 'set the bucket ACL to private',
  actions: ['oss:PutBucketAcl'],
} as const;
