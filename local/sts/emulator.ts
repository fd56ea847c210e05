import { AcsError, errorSpec, missingParameter } from '../acs/errors';
import { type PopCall, PopEmulator, type PopEmulatorOptions, type PopHandler } from '../acs/server';
import type { Caller, IdentityStore } from '../identity';
import { roleTrusts } from './trust';

/** What STS needs of RAM: a role of any local account, with its trust policy and session limit. */
export interface TrustedRole {
  roleName: string;
  roleId: string;
  /** The role's AssumeRolePolicyDocument as RAM stores it. */
  trustPolicy: string;
  maxSessionDuration: number;
}

export interface StsEmulatorOptions extends PopEmulatorOptions {
  /** Any linked store: STS authenticates every account's keys and issues sessions in the role's account. */
  identities: IdentityStore;
  /** The role of that name in that account (names compare case-insensitively, as role ARNs are lower case). */
  roleOf: (accountId: string, roleName: string) => TrustedRole | undefined;
  /** The caller's own RAM permission for `sts:AssumeRole` on the role's ARN; without it every caller has it. */
  authorize?: (caller: Caller, action: string, resource: string) => boolean;
}

/** STS 2015-04-01 on sts.aliyuncs.com (F-STS-ASSUMEROLE). */
const VERSION = '2015-04-01';

/** F-STS-ASSUMEROLE-ERRORS: codes and messages as the STS pages give them; statuses UNVERIFIED. */
export const STS_ERRORS = {
  RootNotAllowed: errorSpec(403, 'NoPermission', 'Roles may not be assumed by root accounts.'),
  NotAuthorized: errorSpec(
    403,
    'NoPermission',
    'You are not authorized to do this action. You should be authorized by RAM.',
  ),
  RoleSessionName: errorSpec(
    400,
    'InvalidParameter.RoleSessionName',
    'The parameter RoleSessionName is wrongly formed.',
  ),
  // UNVERIFIED for STS: RAM's code for a missing role (F-RAM-GETROLE).
  EntityNotExistRole: errorSpec(404, 'EntityNotExist.Role', 'The role does not exist.'),
  // UNVERIFIED: the codes of a malformed RoleArn and of a DurationSeconds out of range.
  RoleArn: errorSpec(400, 'InvalidParameter.RoleArn', 'The parameter RoleArn is wrongly formed.'),
  DurationSeconds: errorSpec(
    400,
    'InvalidParameter.DurationSeconds',
    'The parameter DurationSeconds is out of range.',
  ),
};

/** `acs:ram::<account>:role/<name>` (F-STS-ASSUMEROLE). */
const ROLE_ARN = /^acs:ram::(\d+):role\/([^/]+)$/;
/**
 * Letters, digits, `.`, `@`, `-`, `_`; 2 to 32 characters on the API page, 64 in later SDK notes: up to 64 is
 * accepted here, so callers must keep to 32 (F-STS-ASSUMEROLE).
 */
const SESSION_NAME = /^[a-zA-Z0-9.@\-_]{2,64}$/;
const MIN_DURATION_SECONDS = 900;
const DEFAULT_DURATION_SECONDS = 3600;

const isoSeconds = (date: Date): string => `${date.toISOString().slice(0, 19)}Z`;

/** The ARN of an assumed-role session: `acs:ram::<account>:role/<role, lower case>/<session>` (F-STS-ASSUMEROLE). */
export const sessionArn = (accountId: string, roleName: string, sessionName: string): string =>
  `acs:ram::${accountId}:role/${roleName.toLowerCase()}/${sessionName}`;

/** The ARN a trust policy names a caller by: its account's root, a RAM user or a role (F-STS-TRUST-POLICY). */
export function principalArns(caller: Caller): string[] {
  const root = `acs:ram::${caller.accountId}:root`;
  if (caller.kind === 'ram-user') return [root, `acs:ram::${caller.accountId}:user/${caller.userName}`];
  if (caller.kind === 'assumed-role' && caller.roleName) {
    return [root, `acs:ram::${caller.accountId}:role/${caller.roleName}`];
  }
  return [root];
}

/**
 * STS AssumeRole and GetCallerIdentity over the local accounts. A RAM user or role session of any account may
 * assume a role of any account when its own permissions allow `sts:AssumeRole` on the role and the role's
 * trust policy names its account or itself; the session then signs requests in the role's account.
 */
export class StsEmulator extends PopEmulator {
  constructor(private readonly options: StsEmulatorOptions) {
    super({ versions: [VERSION], product: () => 'Sts', hostId: () => 'sts.aliyuncs.com' }, options);
  }

  protected route(_version: string, action: string): PopHandler | undefined {
    if (action === 'AssumeRole') return (call) => this.assumeRole(call);
    if (action === 'GetCallerIdentity') return (call) => callerIdentity(call.caller);
    return undefined;
  }

  private assumeRole(call: PopCall): Record<string, unknown> {
    const { caller, params } = call;
    if (caller.kind === 'root-account') throw new AcsError(STS_ERRORS.RootNotAllowed);
    if (!params.RoleArn) throw missingParameter('RoleArn');
    if (!params.RoleSessionName) throw missingParameter('RoleSessionName');
    const arn = ROLE_ARN.exec(params.RoleArn);
    if (!arn?.[1] || !arn[2]) throw new AcsError(STS_ERRORS.RoleArn, params.RoleArn);
    if (!SESSION_NAME.test(params.RoleSessionName)) throw new AcsError(STS_ERRORS.RoleSessionName);
    const [, accountId, roleName] = arn;
    const role = this.options.roleOf(accountId, roleName);
    const store = this.options.identities.storeOf(accountId);
    if (!role || !store) throw new AcsError(STS_ERRORS.EntityNotExistRole, params.RoleArn);
    const seconds = params.DurationSeconds ? Number(params.DurationSeconds) : DEFAULT_DURATION_SECONDS;
    if (!Number.isInteger(seconds) || seconds < MIN_DURATION_SECONDS || seconds > role.maxSessionDuration) {
      throw new AcsError(STS_ERRORS.DurationSeconds, `${MIN_DURATION_SECONDS} to ${role.maxSessionDuration}`);
    }
    const resource = `acs:ram::${accountId}:role/${role.roleName}`;
    // Both must allow it: the caller's own RAM permission, and the role's trust policy (F-STS-TRUST-POLICY).
    if (this.options.authorize && !this.options.authorize(caller, 'sts:AssumeRole', resource)) {
      throw new AcsError(STS_ERRORS.NotAuthorized);
    }
    if (!roleTrusts(role.trustPolicy, principalArns(caller))) throw new AcsError(STS_ERRORS.NotAuthorized);
    const session = store.assumeRole(role.roleName, params.RoleSessionName, seconds * 1000);
    return {
      Credentials: {
        AccessKeyId: session.accessKeyId,
        AccessKeySecret: session.accessKeySecret,
        SecurityToken: session.securityToken,
        Expiration: isoSeconds(session.expiresAt),
      },
      AssumedRoleUser: {
        Arn: sessionArn(accountId, role.roleName, session.sessionName),
        AssumedRoleId: `${session.roleId}:${session.sessionName}`,
      },
    };
  }
}

/** GetCallerIdentity's fields (F-STS-GETCALLERIDENTITY). */
function callerIdentity(caller: Caller): Record<string, unknown> {
  const account = { AccountId: caller.accountId, PrincipalId: caller.principalId };
  if (caller.kind === 'ram-user') {
    return {
      ...account,
      IdentityType: 'RAMUser',
      Arn: `acs:ram::${caller.accountId}:user/${caller.userName}`,
      UserId: caller.principalId,
    };
  }
  if (caller.kind === 'assumed-role') {
    const [roleId = ''] = caller.principalId.split(':');
    return {
      ...account,
      IdentityType: 'AssumedRoleUser',
      Arn: sessionArn(caller.accountId, caller.roleName ?? '', caller.sessionName ?? ''),
      RoleId: roleId,
    };
  }
  return { ...account, IdentityType: 'Account', Arn: `acs:ram::${caller.accountId}:root` };
}
