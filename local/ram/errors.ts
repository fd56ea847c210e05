import type { ErrorSpec } from '../acs/errors';

const spec = (status: number, code: string, message: string): ErrorSpec => ({ status, code, message });

/**
 * RAM's service errors, with the statuses and messages of the RAM API reference's "Error messages" page
 * (F-RAM-ERROR-CODES; per-operation pages such as UpdateAccessKey list the same).
 * IMS answers the same codes for the same conditions: UNVERIFIED, the IMS pages only link the error center.
 */
export const RAM_ERRORS = {
  EntityNotExistUser: spec(404, 'EntityNotExist.User', 'The user does not exist.'),
  // UNVERIFIED: status and message of a call the caller's policies do not allow; the emulator appends the
  // resource and action as the real message is reported to.
  NoPermission: spec(403, 'NoPermission', 'You are not authorized to do this action.'),
  EntityNotExistUserAccessKey: spec(
    404,
    'EntityNotExist.User.AccessKey',
    'The user access key does not exist.',
  ),
  EntityNotExistUserLoginProfile: spec(
    404,
    'EntityNotExist.User.LoginProfile',
    'The user login profile does not exist.',
  ),
  EntityAlreadyExistsUser: spec(409, 'EntityAlreadyExists.User', 'The user does already EXIST.'),
  EntityAlreadyExistsUserLoginProfile: spec(
    409,
    'EntityAlreadyExists.User.LoginProfile',
    'The user login profile does already EXIST.',
  ),
  // "The maximum number of AKs allowed is 2" (F-RAM-ACCESSKEY-LIMIT); the root account's limit is UNVERIFIED.
  LimitExceededUserAccessKey: spec(
    409,
    'LimitExceeded.User.AccessKey',
    'The access key count of the user access keys beyond the current limits.',
  ),
  DeleteConflictUserAccessKey: spec(
    409,
    'DeleteConflict.User.AccessKey',
    'The user CAN NOT has any access key while deleting the user.',
  ),
  DeleteConflictUserLoginProfile: spec(
    409,
    'DeleteConflict.User.LoginProfile',
    'The user CAN NOT has any login profile while deleting the user.',
  ),
  UserNameInvalidChars: spec(
    400,
    'InvalidParameter.UserName.InvalidChars',
    'The parameter - "UserName" contains invalid chars.',
  ),
  UserNameLength: spec(
    400,
    'InvalidParameter.UserName.Length',
    'The parameter - "UserName" beyond the length limit.',
  ),
  PolicyType: spec(400, 'InvalidParameter.PolicyType', 'The parameter - "PolicyType" is incorrect.'),
  MalformedPolicyDocument: spec(400, 'MalformedPolicyDocument', 'The policy document is malformed.'),
  EntityNotExistPolicy: spec(404, 'EntityNotExist.Policy', 'The policy does not exist.'),
  EntityNotExistPolicyVersion: spec(
    404,
    'EntityNotExist.Policy.Version',
    'The policy version does not exist.',
  ),
  // The page's message for this code reads "The group does already EXIST.", an evident copy slip.
  EntityAlreadyExistsPolicy: spec(409, 'EntityAlreadyExists.Policy', 'The policy does already EXIST.'),
  LimitExceededPolicyVersion: spec(
    409,
    'LimitExceeded.Policy.Version',
    'The count of policy version beyond the current limits.',
  ),
  // The three role codes are what public clients match on (GetRole / CreateRole / AttachPolicyToRole
  // idempotency); their statuses and messages are UNVERIFIED, modelled on the user codes (EntityNotExist.Role's
  // 404 is documented, its message is not this one: F-RAM-GETROLE).
  EntityNotExistRole: spec(404, 'EntityNotExist.Role', 'The role not exists.'),
  EntityAlreadyExistsRole: spec(409, 'EntityAlreadyExists.Role', 'The role does already EXIST.'),
  EntityAlreadyExistsRolePolicy: spec(
    409,
    'EntityAlreadyExists.Role.Policy',
    'The role has already been attached this policy.',
  ),
  // UNVERIFIED statuses and messages, modelled on the role codes above: attaching twice, detaching what is not
  // attached.
  EntityAlreadyExistsUserPolicy: spec(
    409,
    'EntityAlreadyExists.User.Policy',
    'The user has already been attached this policy.',
  ),
  EntityNotExistUserMfaDevice: spec(404, 'EntityNotExist.User.MFADevice', 'The user has no MFA device.'),
  // Groups: codes, statuses and messages as the error messages page gives them (F-RAM-GROUPS).
  EntityNotExistGroup: spec(404, 'EntityNotExist.Group', 'The group does not exist.'),
  EntityNotExistGroupPolicy: spec(
    404,
    'EntityNotExist.Group.Policy',
    'The indicate policy attached to the group does not exist.',
  ),
  GroupNameInvalid: spec(
    400,
    'InvalidParameter.GroupName.InvalidChars',
    'The parameter - "GroupName" contains invalid chars.',
  ),
  EntityAlreadyExistsGroup: spec(409, 'EntityAlreadyExists.Group', 'The group does already EXIST.'),
  EntityAlreadyExistsGroupPolicy: spec(
    409,
    'EntityAlreadyExists.Group.Policy',
    'The group has already been attached this policy.',
  ),
  EntityAlreadyExistsUserGroup: spec(
    409,
    'EntityAlreadyExists.User.Group',
    'The user has already joined the group.',
  ),
  // UNVERIFIED (the page lists no code for it): detaching from a role what is not attached, modelled on the
  // group's code.
  EntityNotExistRolePolicy: spec(
    404,
    'EntityNotExist.Role.Policy',
    'The indicate policy attached to the role does not exist.',
  ),
  EntityNotExistUserPolicy: spec(
    404,
    'EntityNotExist.User.Policy',
    'The user has not been attached this policy.',
  ),
} as const;
