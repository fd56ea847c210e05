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
 * Calls that create an object and may give it an ACL in the same request (`x-oss-object-acl` header, or a
 * PostObject form field), and the calls of a multipart upload, whose ACL (asked for on Initiate or on Complete)
 * applies once Complete succeeds. Whether a trail records each of them, and whether its records show the ACL,
 * is unverified (F-ACTIONTRAIL-OSS-DATA-EVENTS, F-ACTIONTRAIL-OSS-ACL-HEADER): a write that shows no ACL is
 * re-checked. The published data-event list names InitiateMultipartUpload and UploadPart but not
 * CompleteMultipartUpload, so a trail may show an upload only by those: they are re-checked too (the spelling
 * `InitateMultipartUpload` is the list's, kept in case the record's name is the same).
 */
export const OBJECT_WRITE_EVENTS = [
  'PutObject',
  'CopyObject',
  'AppendObject',
  'PostObject',
  'InitiateMultipartUpload',
  'InitateMultipartUpload',
  'UploadPart',
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

/** The calls that change a bucket's policy: what oss-policy-guard's repair writes over. */
export const BUCKET_POLICY_EVENTS = ['PutBucketPolicy', 'DeleteBucketPolicy'] as const;

export const POLICY_GUARD_EVENTS = [...BUCKET_POLICY_EVENTS, ...BUCKET_TAGGING_EVENTS] as const;

/**
 * A key's creation, and every change of its state: a key ossguard disabled must not come back unjudged
 * (UpdateAccessKey `Status=Active`, F-RAM-UPDATEACCESSKEY, F-IMS-UPDATEACCESSKEY).
 */
export const KEY_GUARD_EVENTS = ['CreateAccessKey', 'UpdateAccessKey'] as const;

/**
 * Identity policies that may grant OSS: a new custom policy, a new version of one, and attaching any policy to a
 * user, group or role (F-ACTIONTRAIL-RAM-EVENTS). Read from the trail by identity-policy-guard.
 */
export const IDENTITY_POLICY_EVENTS = [
  'CreatePolicy',
  'CreatePolicyVersion',
  'AttachPolicyToUser',
  'AttachPolicyToGroup',
  'AttachPolicyToRole',
  // A broad version created without SetAsDefault, made default later, is judged then.
  'SetDefaultPolicyVersion',
  // A user who joins a group holds the group's policies (F-RAM-GROUPS, F-RAM-LISTGROUPSFORUSER).
  'AddUserToGroup',
] as const;

/**
 * Tagging a RAM user (IMS; F-IMS-USER-TAGS): a tag on a user grants key-rule exceptions (#20). The event names are
 * the API names, unverified; RAM and other services record calls of the same names for their own resources, so
 * only records whose `ResourceType` is `user` are a user's (routeOf, user-tag-guard).
 */
export const USER_TAG_EVENTS = ['TagResources', 'UntagResources'] as const;

/**
 * Calls that change a role ossguard acts as (the member role in a member, the function role at home): its trust
 * policy (UpdateRole, whose `NewAssumeRolePolicyDocument` is the new trust policy: F-RAM-UPDATEROLE), its
 * deletion, and a policy detached from it. RAM's ActionTrail events carry the API's name
 * (F-ACTIONTRAIL-RAM-EVENTS, F-ACTIONTRAIL-RAM-ROLE-EVENTS). AttachPolicyToRole is identity-policy-guard's: a
 * record goes to one guard (routeOf), and an attach changes no trust. Read by role-trust-guard.
 */
export const ROLE_TRUST_EVENTS = ['UpdateRole', 'DeleteRole', 'DetachPolicyFromRole'] as const;

/**
 * What the access-key-guard function takes from EventBridge (its s.yaml filter) and `replay` looks up: the key
 * events, the identity-policy events, user tagging and changes of ossguard's roles, all RAM's or IMS's
 * (F-EVENTBRIDGE-RAM-SOURCE).
 */
export const KEY_FUNCTION_EVENTS = [
  ...KEY_GUARD_EVENTS,
  ...IDENTITY_POLICY_EVENTS,
  ...USER_TAG_EVENTS,
  ...ROLE_TRUST_EVENTS,
] as const;

export type AclGuardEvent = (typeof ACL_GUARD_EVENTS)[number];
