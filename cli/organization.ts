import type OSS from 'ali-oss';
import { InvalidArgumentError } from 'commander';
import { CallLog } from '../shared/clients/calllog';
import { type OrganizationApi, organizationApi } from '../shared/clients/organization-api';
import type { CloudCredentials } from '../shared/clients/oss';
import { roleArn } from '../shared/clients/sessions';
import type { OssguardConfig } from '../shared/config/schema';
import { DEFAULT_MEMBER_ROLE, OPERATOR_SESSION_NAME, operatorRoleName } from '../shared/deployment/names';
import type { CloudTarget } from './target';

/**
 * The account set the CLI's organization options take (`--accounts all|ID,...`), and the credentials each
 * account is read with: the caller's in its own account, a session of the member's read-only operator role in
 * a member. Never the member role: a person's session of it under ossguard's session name would pass for
 * ossguard's own (shared/deployment/names.ts), and it may write.
 */
export type AccountSpec = 'all' | string[];

/** `all`, or account ids separated by commas. */
export function parseAccounts(text: string): AccountSpec {
  if (text.trim() === 'all') return 'all';
  const ids = text
    .split(',')
    .map((id) => id.trim())
    .filter((id) => id.length > 0);
  if (ids.length === 0 || ids.some((id) => !/^\d{5,20}$/.test(id)))
    throw new InvalidArgumentError('must be all or account ids separated by commas');
  return [...new Set(ids)];
}

/** The account whose buckets ListBuckets lists: the caller's (F-OSS-LISTBUCKETS-OWNER). */
export async function callerAccount(oss: OSS): Promise<string> {
  const listed = (await oss.listBuckets({ 'max-keys': 1 })) as unknown as { owner?: { id?: unknown } };
  const uid = String(listed.owner?.id ?? '');
  if (!/^\d+$/.test(uid)) throw new Error('cannot tell the account of these credentials');
  return uid;
}

/**
 * Who reaches the members: the caller, who must be a principal the members' operator roles trust
 * (`ossguard bootstrap --account … --operator`, README "An organization"). With `--local` and its
 * administrator key, a root key that may assume no role (F-STS-ASSUMEROLE), the local cloud's operator role.
 */
export function organizationCaller(target: CloudTarget): CloudCredentials {
  const local = target.local;
  return local?.operator && target.credentials.accessKeyId === local.accessKeyId
    ? local.operator.credentials
    : target.credentials;
}

/** A session of the member's read-only operator role, under the operators' session name (never ossguard's). */
export function assumeOperatorRole(
  api: OrganizationApi,
  accountId: string,
  memberRole: string,
): Promise<CloudCredentials> {
  return api.assumeRole(
    roleArn(accountId, operatorRoleName(memberRole)),
    OPERATOR_SESSION_NAME,
    new CallLog(),
  );
}

/** One account of the set, with the credentials to read it with. */
export interface AccountAccess {
  accountId: string;
  credentials: CloudCredentials;
}

/**
 * The accounts `spec` names (`all`: every account Resource Directory lists, F-RD-LISTACCOUNTS, which only the
 * management account or a delegated administrator may call), each with credentials: the caller's own for
 * `home`, a session of the operator role for the others.
 */
export async function accountAccess(
  spec: AccountSpec,
  target: CloudTarget,
  config: OssguardConfig,
  home: string,
): Promise<AccountAccess[]> {
  const caller = organizationCaller(target);
  const api: OrganizationApi = organizationApi(caller, target.endpoints);
  const ids = spec === 'all' ? (await api.listAccounts(new CallLog())).map((a) => a.accountId) : spec;
  const memberRole = config.organization?.memberRole ?? DEFAULT_MEMBER_ROLE;
  return Promise.all(
    [...new Set(ids)].map(async (accountId) => ({
      accountId,
      credentials:
        accountId === home ? target.credentials : await assumeOperatorRole(api, accountId, memberRole),
    })),
  );
}
