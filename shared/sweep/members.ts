import pLimit from 'p-limit';
import { describeError } from '../errors';
import type { ChangeRecord } from '../events/types';
import { aclGuard } from '../guards/acl';
import { type InvocationDeps, runGuard } from '../pipeline/run';
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
 * listed and assessed through its member role, the exposures handed to the same pipeline, which places each
 * change in its account again and records both accounts. Each member has its own checkpoints, so an
 * unfinished member resumes where it stopped; the members whose latest checkpoint is oldest (never swept
 * first) go first, so what one invocation's deadline leaves out leads the next one.
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
  // Two reads a member (its latest checkpoint), a few at a time however large the directory.
  const limit = pLimit(8);
  const ordered = await Promise.all(
    (await placer.members()).map((accountId) =>
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
      await reportUnreachable(deps, budget, accountId, new Date(now())).catch((failure: unknown) =>
        deps.log.warn('the unreachable member could not be recorded', { error: describeError(failure) }),
      );
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
        memberOss: placement.clients.oss,
      });
      result.swept.push({ accountId, ...swept });
    } catch (error) {
      unreachable(accountId, error);
    }
  }
  return result;
}

/**
 * A member whose role cannot be assumed, handed to the pipeline as a change in that account with nothing to
 * read: the pipeline fails to place it as it does an event's (shared/pipeline/outside.ts `unplaced`), and so
 * records it `failed` and alerts with the fix. Its eventId names the day, so the audit's duplicate check
 * keeps it to one record and alert a day while the role stays missing.
 */
async function reportUnreachable(
  deps: InvocationDeps,
  budget: RemediationBudget,
  accountId: string,
  time: Date,
): Promise<void> {
  const eventId = `sweep-member-${accountId}-${time.toISOString().slice(0, 10)}`;
  const record: ChangeRecord = {
    dedupeKey: eventId,
    eventId,
    eventName: SWEEP_EVENT,
    eventType: SWEEP_EVENT,
    service: 'Oss',
    region: deps.region,
    accountId,
    time: time.toISOString(),
    actor: { type: 'system', userName: 'oss-sweeper' },
    resources: {},
    requestParameters: {},
    origin: 'sweep',
  };
  await runGuard(aclGuard, [{ kind: 'change', index: 0, record }], {
    ...deps,
    budget,
    invocationId: `${deps.invocationId}/member`,
    followUp: true,
  });
}
