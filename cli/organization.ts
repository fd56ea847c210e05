import type OSS from 'ali-oss';
import { InvalidArgumentError } from 'commander';
import { CallLog } from '../shared/clients/calllog';
import { type OrganizationApi, organizationApi } from '../shared/clients/organization-api';
import type { CloudCredentials } from '../shared/clients/oss';
import { roleArn } from '../shared/clients/sessions';
import type { OssguardConfig } from '../shared/config/schema';
import { DEFAULT_MEMBER_ROLE, MEMBER_SESSION_NAME } from '../shared/deployment/names';
import type { CloudTarget } from './target';

/**
 * The account set the CLI's organization options take (`--accounts all|ID,...`), and the credentials each
 * account is read with: the caller's in its own account, the member role's (as the deployment assumes it)
 * in a member.
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
 * Who reaches the members: with `--local`, ossguard's function role (the local cloud's deployment, which
 * the member roles trust); elsewhere the caller, who must be a principal the member roles trust
 * (`ossguard bootstrap --account … --operator`, README "An organization").
 */
export function organizationCaller(target: CloudTarget): CloudCredentials {
  return target.local?.functionCredentials ?? target.credentials;
}

/** One account of the set, with the credentials to read it with. */
export interface AccountAccess {
  accountId: string;
  credentials: CloudCredentials;
}

/**
 * The accounts `spec` names (`all`: every account Resource Directory lists, F-RD-LISTACCOUNTS, which only the
 * management account or a delegated administrator may call), each with credentials: the caller's own for
 * `home`, a session of the member role for the others.
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
        accountId === home
          ? target.credentials
          : await api.assumeRole(roleArn(accountId, memberRole), MEMBER_SESSION_NAME, new CallLog()),
    })),
  );
}
