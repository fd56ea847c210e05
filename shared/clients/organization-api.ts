import type { Endpoints } from '../config/load';
import type { CallLog } from './calllog';
import type { CloudCredentials } from './oss';
import { type DirectoryAccount, listAccounts, resourceManagerCaller } from './resource-directory';
import type { SessionCredentials } from './sessions';
import { assumeRole, stsCaller } from './sts';

/**
 * What one deployment calls to act across an organization, with the caller's credentials (the function role's,
 * or the CLI's): STS's AssumeRole into a member's role, and Resource Directory's ListAccounts. Bundled beside
 * the functions (scripts/bundle-options.mjs) and required only where the config has an `organization`.
 */
export interface OrganizationApi {
  assumeRole(arn: string, sessionName: string, log: CallLog): Promise<SessionCredentials>;
  listAccounts(log: CallLog): Promise<DirectoryAccount[]>;
}

export function organizationApi(credentials: CloudCredentials, endpoints: Endpoints): OrganizationApi {
  const sts = stsCaller(credentials, endpoints.sts);
  const directory = resourceManagerCaller(credentials, endpoints.resourcemanager);
  return {
    assumeRole: (arn, sessionName, log) => assumeRole(sts, arn, sessionName, log),
    listAccounts: (log) => listAccounts(directory, log),
  };
}
