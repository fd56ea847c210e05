import pLimit from 'p-limit';
import { auditKey } from '../audit/record';
import { CallLog } from '../clients/calllog';
import { describeError } from '../errors';
import type { ChangeRecord } from '../events/types';
import { aclGuard } from '../guards/acl';
import { deliverOwn } from '../pipeline/deliver';
import { unplacedAdvice } from '../pipeline/outside';
import { changeRecord, failedRecord } from '../pipeline/records';
import type { InvocationDeps } from '../pipeline/run';
import type { RemediationBudget } from '../pipeline/types';
import type { SweepCheckpoints } from './progress-checkpoint';
import { SWEEP_EVENT, type SweepResult, sweep } from './sweep';

export interface MemberSweepResult {
  /** The members swept this invocation, in the order taken, each with its sweep's result. */
  swept: Array<{ accountId: string } & SweepResult>;
  /**
   * Members whose role could not be assumed (recorded `failed` and alerted, with the fix, once a day each) or
   * whose sweep failed: the others are swept all the same.
   */
  unreachable: Array<{ accountId: string; error: string }>;
  /** Members the deadline left for the next invocation. */
  waiting: string[];
}

/**
 * After the deploying account's own sweep, every allowed member's (shared/pipeline/accounts.ts `members`):
 * its buckets listed and assessed, its RAM users' keys and MFA read (once a run) and the objects of its exposed
 * prefixes checked (shared/sweep/sweep.ts), all through its member role; the findings go to the same pipeline,
 * which places each change in its account again and records both accounts. Each member has its own checkpoints, so an
 * unfinished member resumes where it stopped; the members whose latest checkpoint is oldest (never swept
 * first) go first, so what one invocation's deadline leaves out leads the next one. A run is checkpointed
 * before its object pass (shared/sweep/sweep.ts), so a member whose pass FC cuts short still goes to the back. When the directory
 * (`accounts: all`) cannot be listed, no member is swept: the failure is recorded and alerted once a day,
 * and rethrown so that the invocation fails.
 */
export async function sweepMembers(options: {
  deps: InvocationDeps;
  deadline: number;
  budget: RemediationBudget;
  checkpointsOf: (accountId: string) => SweepCheckpoints;
}): Promise<MemberSweepResult> {
  const { deps, deadline, budget } = options;
  const placer = deps.accounts;
  const result: MemberSweepResult = { swept: [], unreachable: [], waiting: [] };
  if (!placer) return result;
  const now = (): number => (deps.now ?? (() => new Date()))().getTime();
  const unreachable = (accountId: string, error: unknown): void => {
    const described = describeError(error);
    result.unreachable.push({ accountId, error: described });
    deps.log.warn('member account could not be swept; the others are', { accountId, error: described });
  };
  const report = (subject: ReportSubject, accountId: string, error: unknown) =>
    reportOnceADay(deps, subject, accountId, error, new Date(now())).catch((failure: unknown) =>
      deps.log.warn('the sweep’s failure could not be recorded', { error: describeError(failure) }),
    );
  let members: string[];
  try {
    // With `accounts: all`, ListAccounts, retried on faults with backoff (shared/clients/resource-directory.ts).
    members = await placer.members();
  } catch (error) {
    // No member is known, so none is swept: recorded and alerted with the fix, and the run still fails, so
    // that FC reports it (the deploying account's sweep is on record already).
    deps.log.error('the resource directory could not be listed; no member is swept', {
      error: describeError(error),
    });
    await report('directory', deps.accountId ?? '', error);
    throw error;
  }
  // Two reads a member (its latest checkpoint), a few at a time however large the directory.
  const limit = pLimit(8);
  const ordered = await Promise.all(
    members.map((accountId) =>
      limit(async () => {
        const checkpoints = options.checkpointsOf(accountId);
        const latest = await checkpoints.latest().catch(() => undefined);
        return { accountId, checkpoints, at: latest?.writtenAt ?? '' };
      }),
    ),
  );
  ordered.sort((a, b) => a.at.localeCompare(b.at) || a.accountId.localeCompare(b.accountId));
  for (const { accountId, checkpoints } of ordered) {
    if (now() >= deadline) {
      result.waiting.push(accountId);
      continue;
    }
    let placement: Awaited<ReturnType<typeof placer.place>>;
    try {
      placement = await placer.place(accountId);
    } catch (error) {
      unreachable(accountId, error);
      await report('member', accountId, error);
      continue;
    }
    if (placement.kind !== 'member') continue;
    try {
      const swept = await sweep({
        deps,
        accountId,
        deadline,
        checkpoints,
        budget,
        member: placement.clients,
        // A member whose RAM cannot be read (a member role bootstrapped before the key sweep was) is
        // recorded and alerted once a day as one whose role cannot be assumed: the fix is the same.
        ramUnreadable: (error) => report('member-ram', accountId, error),
      });
      result.swept.push({ accountId, ...swept });
    } catch (error) {
      unreachable(accountId, error);
    }
  }
  return result;
}

/** What a sweep's own failure is about: a member's role, a member's RAM users, or the resource directory. */
type ReportSubject = 'member' | 'member-ram' | 'directory';

/**
 * A failure of the sweep's own, recorded `failed` with the fix an event's change gets when it cannot be placed
 * (shared/pipeline/outside.ts `unplacedAdvice`): a member whose role cannot be assumed or whose RAM users
 * cannot be read (the record is that member's), or the resource directory that cannot be listed (the
 * deploying account's). Its eventId names the day, and a record on file is not alerted again: one record and
 * one alert a day while it lasts.
 */
async function reportOnceADay(
  deps: InvocationDeps,
  subject: ReportSubject,
  accountId: string,
  error: unknown,
  time: Date,
): Promise<void> {
  const eventId = `sweep-${subject}-${accountId}-${time.toISOString().slice(0, 10)}`;
  const change: ChangeRecord = {
    dedupeKey: eventId,
    eventId,
    eventName: SWEEP_EVENT,
    eventType: SWEEP_EVENT,
    service: subject === 'member-ram' ? 'Ram' : 'Oss',
    region: deps.region,
    accountId,
    time: time.toISOString(),
    actor: { type: 'system', userName: 'oss-sweeper' },
    resources: {},
    requestParameters: {},
    origin: 'sweep',
  };
  const record = {
    ...changeRecord(aclGuard.name, change, time),
    ...(deps.accountId ? { deployAccountId: deps.accountId } : {}),
    route: deps.route ?? aclGuard.name,
  };
  await deliverOwn(
    [
      {
        key: auditKey(deps.runtime.config.audit.prefix, eventId, change.time),
        record: failedRecord(record, error, new CallLog()),
        alert: { advice: unplacedAdvice(accountId, error) },
      },
    ],
    deps,
  );
}
