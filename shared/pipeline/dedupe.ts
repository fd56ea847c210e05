import { auditKey } from '../audit/record';
import type { Actor, ChangeRecord, ParsedItem } from '../events/types';
import { changeRecord, type DecisionSummary, summaryOf } from './records';

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

/** Changes that must not be judged: failed calls changed nothing, and our own reverts must not loop. */
export function skipReason(change: ChangeRecord, ownRoleName: string): string | undefined {
  if (change.errorCode) return `the API call failed (${change.errorCode}), so nothing changed`;
  if (isOwnRole(change.actor, ownRoleName))
    return `made by ossguard's own role ${ownRoleName} (loop prevention)`;
  return undefined;
}

/** `userName` of an assumed role is `RoleName:RoleSessionName`; fc3 lower-cases role names, so compare without case. */
export function isOwnRole(actor: Actor, ownRoleName: string): boolean {
  if (actor.type !== 'assumed-role') return false;
  const role = ownRoleName.toLowerCase();
  const name = (actor.userName ?? '').toLowerCase();
  return name === role || name.startsWith(`${role}:`);
}
