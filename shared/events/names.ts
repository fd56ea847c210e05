/**
 * The ActionTrail event names each guard handles. OSS event names are the OSS API names
 * (../shared/reference/actiontrail-events.md §1.3); account-level Block Public Access uses the
 * un-prefixed `PutPublicAccessBlock` / `DeletePublicAccessBlock` API names.
 *
 * oss-acl-guard's management events: what its EventBridge filter selects and `replay` looks up. Object ACL
 * changes are data events, never on EventBridge nor in LookupEvents: see OBJECT_ACL_EVENTS.
 */
export const ACL_GUARD_EVENTS = [
  'PutBucket',
  'PutBucketAcl',
  'PutBucketPublicAccessBlock',
  'DeleteBucketPublicAccessBlock',
  'PutPublicAccessBlock',
  'DeletePublicAccessBlock',
] as const;

/**
 * Object-level ACL changes: OSS data events, which a trail delivers only to its SLS logstore
 * (actiontrail-events.md §1.3). PutObject, CopyObject and AppendObject change the ACL only when the caller
 * sent `x-oss-object-acl`.
 */
export const OBJECT_ACL_EVENTS = ['PutObjectAcl', 'PutObject', 'CopyObject', 'AppendObject'] as const;

export const POLICY_GUARD_EVENTS = ['PutBucketPolicy', 'DeleteBucketPolicy'] as const;

export const KEY_GUARD_EVENTS = ['CreateAccessKey'] as const;

export type AclGuardEvent = (typeof ACL_GUARD_EVENTS)[number];
