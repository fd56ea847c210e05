/**
 * Names the deployment gives things, which s.yaml, `ossguard bootstrap`, `ossguard doctor` and the local cloud
 * must agree on. They live here rather than in deploy/ because the local cloud, which must not import
 * deploy/, provisions the same things.
 */

/**
 * ossguard's function role: one role for every function, with the permission policy deploy/role-policy.json
 * and the trust policy deploy/trust-policy.json. `ossguard bootstrap` creates it, s.yaml names it, and the
 * local cloud enforces the same policy on every call the functions make.
 */
export const ROLE_NAME = 'ossguard-fn';
export const POLICY_NAME = 'ossguard-fn-policy';
export const ROLE_DESCRIPTION =
  'ossguard functions: re-read OSS and RAM state, remediate, write audit records';

/** Where the FC log trigger records its own runs and errors (s.yaml `logConfig`); fc3 does not create it. */
export const TRIGGER_LOG_LOGSTORE = 'ossguard-trigger-logs';

/**
 * An organization's member role: what `ossguard bootstrap --account` creates in each member (trusted by the
 * function role only), and the session name ossguard always assumes it under. Changes made as
 * `<memberRole>:<MEMBER_SESSION_NAME>` in an allowed member are ossguard's own (loop prevention); a session
 * name is 2-32 of letters, digits and `.@-_` (F-STS-ASSUMEROLE).
 */
export const MEMBER_SESSION_NAME = 'ossguard';
/** The member role's name unless the config's `organization.memberRole` names another. */
export const DEFAULT_MEMBER_ROLE = 'ossguard-member';
export const MEMBER_POLICY_NAME = 'ossguard-member-policy';
export const MEMBER_ROLE_DESCRIPTION =
  'ossguard in a member account: re-read OSS and RAM state and revert, for the central deployment';

/**
 * The people who run the CLI against the members (`scan --accounts`, `replay --accounts`, `doctor`) reach them
 * through a second, read-only role beside the member role, never the member role itself: a session of the
 * member role named MEMBER_SESSION_NAME is taken for ossguard's own, so a person acting through it would have
 * their changes exempt from judgement on the event path. `bootstrap --account … --operator` creates it, trusted
 * by the operators alone; the CLI assumes it under OPERATOR_SESSION_NAME, never MEMBER_SESSION_NAME.
 */
const OPERATOR_ROLE_SUFFIX = '-operator';
export const operatorRoleName = (memberRole: string): string => `${memberRole}${OPERATOR_ROLE_SUFFIX}`;
/** The longest member role name whose operator role still fits RAM's 64 characters (F-RAM-ROLE-NAME-CASE). */
export const MEMBER_ROLE_MAX_LENGTH = 64 - OPERATOR_ROLE_SUFFIX.length;
export const OPERATOR_SESSION_NAME = 'ossguard-cli';
export const OPERATOR_POLICY_NAME = 'ossguard-operator-policy';
export const OPERATOR_ROLE_DESCRIPTION =
  'ossguard operators in a member account: read-only, for scan, replay and doctor run from the central account';
