import { CallLog } from '../clients/calllog';
import { OssGateway } from '../clients/oss';
import { previousRuntimeAuditKey, runtimeAuditKey } from '../config/secrets';
import { describeError } from '../errors';
import { leakIntake } from '../incident/intake';
import { drainDeferred } from '../logtrigger/routes';
import type { ChangeSource } from '../pipeline/handler';
import { pruneJudged } from '../pipeline/remediated';
import { RemediationBudget } from '../pipeline/types';
import { type MemberSweepResult, sweepMembers } from './members';
import { SWEEP_PREFIX, SweepCheckpoints } from './progress-checkpoint';
import { type SweepResult, sweep } from './sweep';

/** Without a timeout in the context, what s.yaml gives the sweeper. */
const DEFAULT_TIMEOUT_S = 600;

/**
 * How long a run may take on: `deadlineMs` from the timer trigger's payload (or a direct invocation's body)
 * when given, and in any case a fifth of the timeout (at least 10 s) short of it, left for the buckets in
 * flight and the checkpoint.
 */
export function runDeadline(event: Buffer | string, timeoutS: number, startedAt: number): number {
  const timeoutMs = timeoutS * 1000;
  const ceiling = timeoutMs - Math.max(10_000, timeoutMs / 5);
  const asked = deadlineOf(event);
  return startedAt + Math.max(0, asked === undefined ? ceiling : Math.min(asked, ceiling));
}

/** A timer trigger sends `{triggerTime, triggerName, payload}` with the s.yaml's payload string inside. */
function deadlineOf(event: Buffer | string): number | undefined {
  const parse = (text: string): Record<string, unknown> => {
    try {
      const value = JSON.parse(text) as unknown;
      return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : {};
    } catch {
      return {};
    }
  };
  const body = parse(event.toString());
  const options = typeof body.payload === 'string' ? parse(body.payload) : body;
  const ms = options.deadlineMs;
  return typeof ms === 'number' && Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}

/**
 * The oss-sweeper's source, its timer: one invocation drains the deferred-work queue, then sweeps until done
 * or near the timeout, and checkpoints.
 */
export function sweepTimerSource(): ChangeSource<
  SweepResult & { drained: number; members?: MemberSweepResult }
> {
  return {
    name: 'oss-sweeper',
    run: async (event, context, { runtime, deps, credentials }) => {
      const startedAt = Date.now();
      // Leaked keys first: each minute one stays active is a minute someone else can use it.
      await leakIntake(deps, credentials, runtime.endpoints.sas).catch((error: unknown) =>
        deps.log.warn('leak findings could not be read; the next run retries', {
          error: describeError(error),
        }),
      );
      const { audit } = runtime.config;
      const auditGateway = new OssGateway(deps.oss, audit.region ?? context.region, new CallLog());
      await pruneJudged(auditGateway, audit.bucket, (deps.now ?? (() => new Date()))()).catch(
        (error: unknown) =>
          deps.log.warn('judged marks not pruned; the next run retries', { error: describeError(error) }),
      );
      const deadline = runDeadline(event, context.function?.timeout ?? DEFAULT_TIMEOUT_S, startedAt);
      // One blast-radius budget for the whole invocation, the drain and every batch of the sweep alike.
      const budget = new RemediationBudget(runtime.config.maxRemediationsPerInvocation);
      // What trail-guard handed on goes next, so that nothing waits for an unrelated change in the trail to
      // start a drain; it takes at most half of the run, and what is left waits for the next run.
      const queue = {
        gateway: auditGateway,
        bucket: audit.bucket,
        key: runtimeAuditKey(runtime),
        previous: previousRuntimeAuditKey(runtime),
      };
      const drained = await drainDeferred(
        { deps: { ...deps, budget }, context, runtime, log: deps.log, queue },
        (Date.now() + deadline) / 2,
      );
      const { organization } = runtime.config;
      // Sealed with the audit key like the queue's items: a planted checkpoint must not restart or skip a run.
      const trust = {
        key: queue.key,
        previousKey: queue.previous,
        now: deps.now ?? (() => new Date()),
        log: deps.log,
      };
      const result = await sweep({
        deps,
        accountId: context.accountId ?? '',
        // With an organization, the deploying account's sweep takes at most half of what is left, so that a
        // deploying account too large for one run never keeps the members from being swept.
        deadline: organization ? (Date.now() + deadline) / 2 : deadline,
        checkpoints: new SweepCheckpoints(auditGateway, audit.bucket, SWEEP_PREFIX, trust),
        budget,
      });
      // With an organization, every allowed member after the deploying account, on the same budget and deadline.
      if (!organization) return { ...result, drained };
      const members = await sweepMembers({
        deps,
        deadline,
        budget,
        checkpointsOf: (accountId) =>
          new SweepCheckpoints(auditGateway, audit.bucket, `${SWEEP_PREFIX}accounts/${accountId}/`, trust),
      });
      return { ...result, drained, members };
    },
  };
}
