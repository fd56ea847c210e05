import type { UnsignedAuditRecord } from '../audit/record';
import { CallLog } from '../clients/calllog';
import type { OssGateway } from '../clients/oss';
import { CloudApiError, describeError } from '../errors';
import type { ChangeRecord } from '../events/types';
import { type Placement, placeChange } from './accounts';
import { skipReason } from './dedupe';
import type { InvocationDeps } from './invocation';
import {
  failedRecord,
  type ItemOutcome,
  invocationSummary,
  type Pending,
  pendingOf,
  retryOf,
} from './records';
import { PIPELINE_PREFIX } from './remediated';

/** One marker per account and UTC day whose reported changes were alerted on: `<dir><YYYY-MM-DD>/<account>`. */
const OUTSIDE_DIR = `${PIPELINE_PREFIX}outside/`;

/**
 * The one alert of a batch about changes in accounts ossguard does not act in: each is recorded as
 * `reported`, and counted here per account. An organization trail delivers every account's records, so an
 * account is announced once a UTC day (its marker, write-once, beside the audit records); its later changes
 * that day are in the audit log only (`ossguard audit list --decision reported`).
 */
export async function outsideDigest(
  pending: readonly Pending[],
  at: { guard: string; deps: InvocationDeps; gateway: OssGateway; now: Date },
): Promise<Pending | undefined> {
  const counts = new Map<string, number>();
  for (const { record } of pending) {
    if (record.decision !== 'reported' || !record.accountId) continue;
    counts.set(record.accountId, (counts.get(record.accountId) ?? 0) + 1);
  }
  if (counts.size === 0) return undefined;
  const { config } = at.deps.runtime;
  const log = at.deps.log;
  const day = at.now.toISOString().slice(0, 10);
  const announce = await Promise.all(
    [...counts.keys()].map(async (accountId) => {
      try {
        const key = `${OUTSIDE_DIR}${day}/${accountId}`;
        return (await at.gateway.putObjectIfAbsent(config.audit.bucket, key, '{}')) === 'created';
      } catch (error) {
        // An alert too many rather than a silent account.
        log.warn('outside-account marker not written; alerting anyway', {
          accountId,
          error: describeError(error),
        });
        return true;
      }
    }),
  );
  const fresh = [...counts].filter((_, i) => announce[i]);
  if (fresh.length === 0) return undefined;
  const listed = fresh.map(([accountId, n]) => `${accountId} (${n})`).join(', ');
  const total = fresh.reduce((sum, [, n]) => sum + n, 0);
  return invocationSummary(
    at.guard,
    {
      kind: 'outside',
      id: 'outside-accounts',
      eventName: 'OutsideAccounts',
      reason: `${total} change(s) in account(s) ossguard does not act in were reported, not acted on: ${listed}. Their later changes today are recorded as reported without another alert`,
      advice: [
        'To guard an account: add it to organization.accounts (or use all), then run `ossguard bootstrap --account <id>` and `ossguard doctor`.',
      ],
    },
    { invocationId: at.deps.invocationId, auditPrefix: config.audit.prefix, now: at.now },
  );
}

/**
 * A member's role could not be assumed (or the directory not listed): a fault is redelivered; a refusal (no
 * role, a trust policy that does not name the function role, a function role without ListAccounts) is
 * recorded as failed and alerted, with the fix.
 */
export function unplaced(record: UnsignedAuditRecord, error: unknown, auditPrefix: string): ItemOutcome {
  if (error instanceof CloudApiError && error.retryable) return retryOf(record.eventId, describeError(error));
  const failed = pendingOf(failedRecord(record, error, new CallLog()), auditPrefix);
  if (failed.kind !== 'record') return failed;
  const advice = unplacedAdvice(record.accountId, error);
  return { kind: 'record', pending: { ...failed.pending, alert: { advice } } };
}

/**
 * The fix for an account ossguard could not act in: the resource directory's listing (`accounts: all`,
 * shared/pipeline/accounts.ts `listed`) when that is what failed, else the member's role.
 */
export function unplacedAdvice(accountId: string | undefined, error: unknown): string[] {
  if (error instanceof CloudApiError && error.operation === 'ListAccounts')
    return [
      "With organization.accounts: all, no member is swept or acted on while the resource directory cannot be listed. Grant the function role `resourcemanager:ListAccounts` again (`ossguard bootstrap` puts it in the role's policy), check that the deploying account is the directory's management account or a delegated administrator, then run `ossguard doctor`. A throttling or internal error clears by itself.",
    ];
  return [
    `Run \`ossguard bootstrap --account ${accountId ?? '<id>'}\` with that account's credentials, then \`ossguard doctor\`.`,
  ];
}

/**
 * Where a change is acted on (shared/pipeline/accounts.ts), or the outcome that settles it before any read: a
 * member role that cannot be assumed, a change that must not be judged (a failed call, ossguard's own), or a
 * change in an account ossguard does not act in (`reported`).
 */
export async function admit(
  deps: InvocationDeps,
  change: ChangeRecord,
  first: UnsignedAuditRecord,
): Promise<{ outcome: ItemOutcome } | { placement: Exclude<Placement, { kind: 'outside' }> }> {
  const prefix = deps.runtime.config.audit.prefix;
  let placed: Awaited<ReturnType<typeof placeChange>>;
  try {
    placed = await placeChange(deps, change);
  } catch (error) {
    return { outcome: unplaced(first, error, prefix) };
  }
  const { placement, own } = placed;
  const skip = skipReason(change, own);
  if (skip) return { outcome: pendingOf({ ...first, decision: 'skipped', reason: skip }, prefix) };
  if (placement.kind === 'outside')
    return { outcome: pendingOf({ ...first, decision: 'reported', reason: placement.reason }, prefix) };
  return { placement };
}
