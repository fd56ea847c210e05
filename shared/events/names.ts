/**
 * The ActionTrail event names each guard handles. OSS event names are the OSS API names
 * (F-ACTIONTRAIL-OSS-EVENT-NAMES); account-level Block Public Access uses the un-prefixed
 * `PutPublicAccessBlock` / `DeletePublicAccessBlock` API names.
 *
 * oss-acl-guard's management events: what its EventBridge filter selects and `replay` looks up.
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
 * Calls that create an object and may give it an ACL in the same request (`x-oss-object-acl`). Whether a
 * trail records all of them, and whether its records show that header, is unverified
 * (F-ACTIONTRAIL-OSS-DATA-EVENTS, F-ACTIONTRAIL-OSS-ACL-HEADER): a write that shows no ACL is re-checked.
 */
export const OBJECT_WRITE_EVENTS = [
  'PutObject',
  'CopyObject',
  'AppendObject',
  'PostObject',
  'CompleteMultipartUpload',
  'PutSymlink',
] as const;

/**
 * Object-level ACL changes: PutObjectAcl, and the object writes. They are OSS data events, which a trail
 * delivers to its SLS logstore (F-ACTIONTRAIL-DATA-EVENTS-SLS-ONLY); whether PutObjectAcl is a data or a
 * management event is unverified, so it is read wherever it arrives.
 */
export const OBJECT_ACL_EVENTS = ['PutObjectAcl', ...OBJECT_WRITE_EVENTS] as const;

/**
 * Bucket tagging, watched because a tag grants an exception (#20). Whether ActionTrail names these events
 * after the API (`PutBucketTags`) or the permission (`PutBucketTagging`) is unverified
 * (F-OSS-BUCKET-TAGGING-PERMISSIONS), so both are listened for.
 */
export const BUCKET_TAGGING_EVENTS = [
  'PutBucketTags',
  'DeleteBucketTags',
  'PutBucketTagging',
  'DeleteBucketTagging',
] as const;

export const POLICY_GUARD_EVENTS = [
  'PutBucketPolicy',
  'DeleteBucketPolicy',
  ...BUCKET_TAGGING_EVENTS,
] as const;

/**
 * A key's creation, and every change of its state: a key ossguard disabled must not come back unjudged
 * (UpdateAccessKey `Status=Active`, F-RAM-UPDATEACCESSKEY, F-IMS-UPDATEACCESSKEY).
 */
export const KEY_GUARD_EVENTS = ['CreateAccessKey', 'UpdateAccessKey'] as const;

export type AclGuardEvent = (typeof ACL_GUARD_EVENTS)[number];
