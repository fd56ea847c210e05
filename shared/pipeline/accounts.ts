import { CallLog } from '../clients/calllog';
import type { OrganizationApi } from '../clients/organization-api';
import type { CloudCredentials, OssClientFactory } from '../clients/oss';
import type { RamApi } from '../clients/ram';
import { roleArn, SessionCache } from '../clients/sessions';
import type { OssguardConfig } from '../config/schema';
import { MEMBER_SESSION_NAME } from '../deployment/names';
import type { ChangeRecord } from '../events/types';
import { type OwnRole, ownRoles } from './dedupe';

/** The clients one account's resources are read and reverted with. */
export interface AccountClients {
  oss: OssClientFactory;
  ram?: RamApi;
}

/**
 * Where a change's account stands for this deployment: its own account (the function role acts, as for a
 * single account), an allowed member (ossguard acts through the member role it assumes there), or an account
 * it must not act in, whose changes are reported.
 */
export type Placement =
  | { kind: 'home' }
  | { kind: 'member'; accountId: string; clients: AccountClients; role: OwnRole }
  | { kind: 'outside'; accountId: string; reason: string };

export const HOME: Placement = { kind: 'home' };

/**
 * Decides, per change, which account's clients act on it: the change's account is its record's
 * `recipientAccountId` (F-ORG-TRAIL-RECIPIENT, shared/events/parse-actiontrail-events.ts), never the caller's.
 */
export interface AccountPlacer {
  place(accountId: string | undefined): Promise<Placement>;
  /** The member roles ossguard acts as that are known without a call (the allow list, or the last listing). */
  knownRoles(): OwnRole[];
  /** The allowed members, the deploying account left out: what the timer sweep covers besides its own. */
  members(): Promise<string[]>;
}

/** How long a listing of the directory (`accounts: all`) is believed: a new member waits at most this long. */
const DIRECTORY_TTL_MS = 10 * 60_000;

export interface MemberAccountsOptions {
  organization: OssguardConfig['organization'];
  /** The deploying account (FC's `context.accountId`); undefined when FC did not say. */
  homeAccountId: string | undefined;
  /** STS and Resource Directory with the caller's current credentials (the function role's). */
  api: () => OrganizationApi;
  /** The clients for a member's session credentials; the RAM client only in functions built with one. */
  clientsFor: (credentials: CloudCredentials) => AccountClients;
  now?: () => number;
}

/**
 * The accounts of one deployment: the allow list (`organization.accounts`), or every account Resource
 * Directory lists (`all`, listed again every ten minutes). Changes of an allowed member are acted on with the
 * member role's session, assumed with the function role's credentials and kept until near its expiry; a
 * change of any other account is reported, never acted on. Without an `organization`, every change is the
 * deploying account's, as before.
 */
export class MemberAccounts implements AccountPlacer {
  private readonly sessions: SessionCache;
  /** Per member, the clients of its current session (keyed by the session's AccessKey id). */
  private readonly clients = new Map<string, { key: string; clients: AccountClients }>();
  private directory: { at: number; ids: Promise<ReadonlySet<string>> } | undefined;
  private lastListed: ReadonlySet<string> = new Set();
  private readonly now: () => number;

  constructor(private readonly options: MemberAccountsOptions) {
    this.now = options.now ?? Date.now;
    this.sessions = new SessionCache(
      (arn) => options.api().assumeRole(arn, MEMBER_SESSION_NAME, new CallLog()),
      this.now,
    );
  }

  async place(accountId: string | undefined): Promise<Placement> {
    const { organization, homeAccountId } = this.options;
    // Without an organization, one account as before: whatever account a record names, the function role
    // re-reads what it names, and a resource it cannot reach is reported as such (the published records of
    // other accounts, test/e2e/published-records.test.ts).
    if (!organization || accountId === undefined || accountId === homeAccountId) return HOME;
    if (!(await this.allows(accountId))) {
      return outside(
        accountId,
        organization.accounts === 'all'
          ? 'it is not in the resource directory (ListAccounts)'
          : 'it is not in organization.accounts',
      );
    }
    const role = this.roleIn(accountId);
    const session = await this.sessions.get(roleArn(accountId, role.roleName));
    let held = this.clients.get(accountId);
    // A new session gets new clients: ali-oss and the POP clients keep the credentials they were built with.
    if (held?.key !== session.accessKeyId) {
      held = { key: session.accessKeyId, clients: this.options.clientsFor(session) };
      this.clients.set(accountId, held);
    }
    return { kind: 'member', accountId, clients: held.clients, role };
  }

  knownRoles(): OwnRole[] {
    const { organization } = this.options;
    if (!organization) return [];
    const ids = organization.accounts === 'all' ? [...this.lastListed] : organization.accounts;
    return ids.filter((id) => id !== this.options.homeAccountId).map((id) => this.roleIn(id));
  }

  async members(): Promise<string[]> {
    const accounts = this.options.organization?.accounts;
    if (accounts === undefined) return [];
    const ids = accounts === 'all' ? [...(await this.listed())] : accounts;
    return ids.filter((id) => id !== this.options.homeAccountId);
  }

  /**
   * ossguard's role in a member: the configured name under ossguard's own session name only, and spelled only as
   * configured (`exactName`): ossguard assumes it by the ARN it builds from that name and bootstrap creates it so,
   * unlike the function role, whose ARN fc3 lower-cases (F-FC-ROLE-ARN). Should RAM record another spelling,
   * judging ossguard's own revert costs a re-read that finds the state compliant (shared/pipeline/dedupe.ts).
   */
  private roleIn(accountId: string): OwnRole {
    const roleName = this.options.organization?.memberRole ?? '';
    return { accountId, roleName, sessionName: MEMBER_SESSION_NAME, exactName: true };
  }

  private async allows(accountId: string): Promise<boolean> {
    const accounts = this.options.organization?.accounts;
    if (accounts === undefined) return false;
    if (accounts !== 'all') return accounts.includes(accountId);
    return (await this.listed()).has(accountId);
  }

  private listed(): Promise<ReadonlySet<string>> {
    if (!this.directory || this.now() - this.directory.at > DIRECTORY_TTL_MS) {
      const ids = this.options
        .api()
        .listAccounts(new CallLog())
        .then((listed) => new Set(listed.map((a) => a.accountId)));
      const entry = { at: this.now(), ids };
      this.directory = entry;
      // A failed listing is not kept: the next change lists again.
      ids.then(
        (set) => {
          this.lastListed = set;
        },
        () => {
          if (this.directory === entry) this.directory = undefined;
        },
      );
    }
    return this.directory.ids;
  }
}

const outside = (accountId: string, why: string): Placement => ({
  kind: 'outside',
  accountId,
  reason: `account ${accountId} is not one ossguard acts in: ${why}; reported, not acted on`,
});

/**
 * Where a change is acted on, and the roles whose changes there are ossguard's own: its function role, and in
 * a member the member role under ossguard's session name.
 */
export async function placeChange(
  deps: {
    accounts?: AccountPlacer;
    accountId?: string;
    runtime: { config: Pick<OssguardConfig, 'ownRoleName'> };
  },
  change: ChangeRecord,
): Promise<{ placement: Placement; own: OwnRole[] }> {
  const placement = deps.accounts ? await deps.accounts.place(change.accountId) : HOME;
  const own = ownRoles(deps.accountId, deps.runtime.config.ownRoleName);
  return { placement, own: placement.kind === 'member' ? [...own, placement.role] : own };
}
