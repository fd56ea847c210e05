import type { LimitFunction } from 'p-limit';
import { auditKey } from '../audit/record';
import { resourceIdentity } from '../events/resource-identity';
import type { Actor, ChangeRecord, ParsedItem } from '../events/types';
import { changeRecord, type DecisionSummary, summaryOf } from './records';
import type { Guard } from './types';

/**
 * Delivery is at least once, so a batch may hold one event twice. Handled concurrently, both copies would
 * pass the audit-existence check, and revert and alert twice: only the first copy is handled.
 */
export function dedupeBatch(
  items: readonly ParsedItem[],
  guard: string,
  auditPrefix: string,
  now: Date,
): { unique: ParsedItem[]; repeats: DecisionSummary[] } {
  const seen = new Set<string>();
  const repeats: DecisionSummary[] = [];
  const unique = items.filter((item) => {
    if (item.kind !== 'change') return true;
    const change = item.record;
    if (!seen.has(change.dedupeKey)) {
      seen.add(change.dedupeKey);
      return true;
    }
    const key = auditKey(auditPrefix, change.dedupeKey, change.time);
    repeats.push({
      ...summaryOf(changeRecord(guard, change, now), 'duplicate', key),
      reason: 'already handled: the same event came earlier in this batch',
    });
    return false;
  });
  return { unique, repeats };
}

/** How a guard tells a batch's changes of one state apart, and which of them may lead them. */
export interface ResourceOrder {
  /** `resourceIdentity` under the guard's `stateOf`. */
  resourceOf(change: ChangeRecord): string;
  /** Not one of the guard's `rereadOnly` events. */
  mayLead(change: ChangeRecord): boolean;
}

export function resourceOrderOf(guard: Pick<Guard<unknown>, 'stateOf' | 'rereadOnly'>): ResourceOrder {
  return {
    resourceOf: (change) => resourceIdentity(change, guard.stateOf?.(change)),
    mayLead: (change) => !guard.rereadOnly?.includes(change.eventName),
  };
}

/**
 * Handles each item under `limit`, each resource's lead first, then that resource's other changes, all at once.
 * Every change of a batch happened before it was delivered, so the first one handled re-reads the state they
 * left: handled all at once, a bucket created and then made public in one log range were both repaired and
 * alerted. The lead is the newest change that may lead, by event time and then by place in the batch (times
 * are whole seconds, F-ACTIONTRAIL-RECORD-FIELDS); the newest of all when none may. It set the state that is
 * live, so a repair is recorded and alerted on it, not on a tagging call or an upload's part that came after,
 * and the older changes, finding it repaired, name that repair (shared/pipeline/remediated.ts
 * `tiedToRemediation`, which sees this invocation's repairs at once). Two rounds at most, however many
 * changes one resource has.
 */
export function inResourceOrder<T>(
  items: readonly ParsedItem[],
  limit: LimitFunction,
  handle: (item: ParsedItem) => Promise<T>,
  guard: Pick<Guard<unknown>, 'stateOf' | 'rereadOnly'>,
): Promise<T[]> {
  const order = resourceOrderOf(guard);
  const resourceOf = new Map<ParsedItem, string>();
  const leadOf = new Map<string, Extract<ParsedItem, { kind: 'change' }>>();
  for (const item of items) {
    if (item.kind !== 'change') continue;
    const resource = order.resourceOf(item.record);
    resourceOf.set(item, resource);
    const lead = leadOf.get(resource);
    if (!lead || leadsBefore(item.record, lead.record, order)) leadOf.set(resource, item);
  }
  // Every lead is queued before any other change, so that none of them waits behind a resource's older changes.
  const leads = new Map([...leadOf].map(([resource, lead]) => [resource, limit(() => handle(lead))]));
  return Promise.all(
    items.map((item) => {
      const resource = resourceOf.get(item);
      const lead = resource === undefined ? undefined : leads.get(resource);
      if (!lead) return limit(() => handle(item));
      if (leadOf.get(resource as string) === item) return lead;
      return lead.catch(() => undefined).then(() => limit(() => handle(item)));
    }),
  );
}

/** Whether `change`, later in the batch than `lead`, leads instead: it may lead and `lead` not, or it is no older. */
function leadsBefore(change: ChangeRecord, lead: ChangeRecord, order: ResourceOrder): boolean {
  const [may, leadMay] = [order.mayLead(change), order.mayLead(lead)];
  if (may !== leadMay) return may;
  return !(Date.parse(lead.time) > Date.parse(change.time));
}

/**
 * A role ossguard acts as: its function role in its own account (any session: FC names it), and, once it acts
 * in member accounts (#17), the roles it assumes there under its own session name.
 */
export interface OwnRole {
  accountId: string;
  roleName: string;
  /** Required session name; absent for the function role, whose session FC names. */
  sessionName?: string;
  /**
   * The role name only as configured, not its lower case: set for the member role, whose ARN ossguard builds
   * itself (shared/pipeline/accounts.ts); the lower case is the function role's, whose ARN fc3 gives FC
   * (F-FC-ROLE-ARN).
   */
  exactName?: true;
}

/** The roles whose changes are ossguard's own: none when FC did not say which account it runs in. */
export function ownRoles(accountId: string | undefined, roleName: string): OwnRole[] {
  return accountId ? [{ accountId, roleName }] : [];
}

/** Changes that must not be judged: failed calls changed nothing, and our own reverts must not loop. */
export function skipReason(change: ChangeRecord, own: readonly OwnRole[]): string | undefined {
  if (change.errorCode) return `the API call failed (${change.errorCode}), so nothing changed`;
  const role = own.find((r) => isOwnRole(change.actor, r));
  if (role)
    return `made by ossguard's own role acs:ram::${role.accountId}:role/${role.roleName} (loop prevention)`;
  return undefined;
}

/**
 * Whether a role name, as RAM spells it, is ossguard's own role `ownRoleName`: the configured spelling or the
 * lower case fc3 gives the ARN FC assumes (F-RAM-ROLE-NAME-CASE, F-FC-ROLE-ARN), which name ossguard's role
 * whichever way RAM compares names; any other spelling is another role.
 */
export function isOwnRoleName(roleName: string, ownRoleName: string): boolean {
  return roleName === ownRoleName || roleName === ownRoleName.toLowerCase();
}

/**
 * Whether an actor is the role `own`, compared as its ARN `acs:ram::<account>:role/<name>`: the account id
 * exactly (`userIdentity.accountId`, F-ACTIONTRAIL-USER-IDENTITY), the role name from `userName`
 * (`RoleName:RoleSessionName`). Whether RAM matches role names without case is unverified
 * (F-RAM-ROLE-NAME-CASE), so the name must be spelled as configured or, for the function role, in the lower
 * case fc3 gives the ARN FC assumes (F-FC-ROLE-ARN): both name ossguard's role whichever way RAM compares, and
 * any other spelling is judged. The member role's ARN is ossguard's own (`exactName`): only its spelling. Judging one of ossguard's own reverts costs a re-read that finds the state compliant; exempting
 * another role would leave its change standing.
 */
export function isOwnRole(actor: Actor, own: OwnRole): boolean {
  if (actor.type !== 'assumed-role' || actor.accountId !== own.accountId) return false;
  const userName = actor.userName ?? '';
  const colon = userName.indexOf(':');
  if (colon < 0) return false;
  const roleName = userName.slice(0, colon);
  const sessionName = userName.slice(colon + 1);
  if (own.exactName ? roleName !== own.roleName : !isOwnRoleName(roleName, own.roleName)) return false;
  return own.sessionName === undefined || sessionName === own.sessionName;
}
