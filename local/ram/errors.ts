import { errorSpec } from '../acs/errors';

/**
 * RAM's service errors, with the statuses and messages of the RAM API reference's "Error messages" page
 * (F-RAM-ERROR-CODES; per-operation pages such as UpdateAccessKey list the same).
 * IMS answers the same codes for the same conditions: UNVERIFIED, the IMS pages only link the error center.
 */
export const RAM_ERRORS = {
  EntityNotExistUser: errorSpec(404, 'EntityNotExist.User', 'The user does not exist.'),
  // UNVERIFIED: status and message of a call the caller's policies do not allow; the emulator appends the
  // resource and action as the real message is reported to.
  NoPermission: errorSpec(403, 'NoPermission', 'You are not authorized to do this action.'),
  EntityNotExistUserAccessKey: errorSpec(
    404,
    'EntityNotExist.User.AccessKey',
    'The user access key does not exist.',
  ),
  EntityNotExistUserLoginProfile: errorSpec(
    404,
    'EntityNotExist.User.LoginProfile',
    'The user login profile does not exist.',
  ),
  EntityAlreadyExistsUser: errorSpec(409, 'EntityAlreadyExists.User', 'The user does already EXIST.'),
  EntityAlreadyExistsUserLoginProfile: errorSpec(
    409,
    'EntityAlreadyExists.User.LoginProfile',
    'The user login profile does already EXIST.',
  ),
  // "The maximum number of AKs allowed is 2" (F-RAM-ACCESSKEY-LIMIT); the root account's limit is UNVERIFIED.
  LimitExceededUserAccessKey: errorSpec(
    409,
    'LimitExceeded.User.AccessKey',
    'The access key count of the user access keys beyond the current limits.',
  ),
  // F-RAM-DELETEROLE: the Resource Management copy of DeleteRole lists it; RAM's is assumed the same.
  DeleteConflictRolePolicy: errorSpec(
    409,
    'DeleteConflict.Role.Policy',
    'The role cannot have any attached policies when you delete it.',
  ),
  DeleteConflictUserAccessKey: errorSpec(
    409,
    'DeleteConflict.User.AccessKey',
    'The user CAN NOT has any access key while deleting the user.',
  ),
  DeleteConflictUserLoginProfile: errorSpec(
    409,
    'DeleteConflict.User.LoginProfile',
    'The user CAN NOT has any login profile while deleting the user.',
  ),
  UserNameInvalidChars: errorSpec(
    400,
    'InvalidParameter.UserName.InvalidChars',
    'The parameter - "UserName" contains invalid chars.',
  ),
  UserNameLength: errorSpec(
    400,
    'InvalidParameter.UserName.Length',
    'The parameter - "UserName" beyond the length limit.',
  ),
  PolicyType: errorSpec(400, 'InvalidParameter.PolicyType', 'The parameter - "PolicyType" is incorrect.'),
  MalformedPolicyDocument: errorSpec(400, 'MalformedPolicyDocument', 'The policy document is malformed.'),
  EntityNotExistPolicy: errorSpec(404, 'EntityNotExist.Policy', 'The policy does not exist.'),
  EntityNotExistPolicyVersion: errorSpec(
    404,
    'EntityNotExist.Policy.Version',
    'The policy version does not exist.',
  ),
  // The page's message for this code reads "The group does already EXIST.", an evident copy slip.
  EntityAlreadyExistsPolicy: errorSpec(409, 'EntityAlreadyExists.Policy', 'The policy does already EXIST.'),
  LimitExceededPolicyVersion: errorSpec(
    409,
    'LimitExceeded.Policy.Version',
    'The count of policy version beyond the current limits.',
  ),
  // The three role codes are what public clients match on (GetRole / CreateRole / AttachPolicyToRole
  // idempotency); their statuses and messages are UNVERIFIED, modelled on the user codes (EntityNotExist.Role's
  // 404 is documented, its message is not this one: F-RAM-GETROLE).
  EntityNotExistRole: errorSpec(404, 'EntityNotExist.Role', 'The role not exists.'),
  EntityAlreadyExistsRole: errorSpec(409, 'EntityAlreadyExists.Role', 'The role does already EXIST.'),
  EntityAlreadyExistsRolePolicy: errorSpec(
    409,
    'EntityAlreadyExists.Role.Policy',
    'The role has already been attached this policy.',
  ),
  // UNVERIFIED statuses and messages, modelled on the role codes above: attaching twice, detaching what is not
  // attached.
  EntityAlreadyExistsUserPolicy: errorSpec(
    409,
    'EntityAlreadyExists.User.Policy',
    'The user has already been attached this policy.',
  ),
  EntityNotExistUserMfaDevice: errorSpec(404, 'EntityNotExist.User.MFADevice', 'The user has no MFA device.'),
  // Groups: codes, statuses and messages as the error messages page gives them (F-RAM-GROUPS).
  EntityNotExistGroup: errorSpec(404, 'EntityNotExist.Group', 'The group does not exist.'),
  EntityNotExistGroupPolicy: errorSpec(
    404,
    'EntityNotExist.Group.Policy',
    'The indicate policy attached to the group does not exist.',
  ),
  GroupNameInvalid: errorSpec(
    400,
    'InvalidParameter.GroupName.InvalidChars',
    'The parameter - "GroupName" contains invalid chars.',
  ),
  EntityAlreadyExistsGroup: errorSpec(409, 'EntityAlreadyExists.Group', 'The group does already EXIST.'),
  EntityAlreadyExistsGroupPolicy: errorSpec(
    409,
    'EntityAlreadyExists.Group.Policy',
    'The group has already been attached this policy.',
  ),
  EntityAlreadyExistsUserGroup: errorSpec(
    409,
    'EntityAlreadyExists.User.Group',
    'The user has already joined the group.',
  ),
  // UNVERIFIED (the page lists no code for it): detaching from a role what is not attached, modelled on the
  // group's code.
  EntityNotExistRolePolicy: errorSpec(
    404,
    'EntityNotExist.Role.Policy',
    'The indicate policy attached to the role does not exist.',
  ),
  EntityNotExistUserPolicy: errorSpec(
    404,
    'EntityNotExist.User.Policy',
    'The user has not been attached this policy.',
  ),
} as const;
