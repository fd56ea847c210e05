import type { StateSnapshot } from '../audit/record';
import { isNotFound, type OssGateway } from '../clients/oss';
import type { OssguardConfig } from '../config/schema';
import { EventParseError } from '../errors';
import { BUCKET_POLICY_EVENTS, BUCKET_TAGGING_EVENTS, POLICY_GUARD_EVENTS } from '../events/names';
import type { ChangeRecord } from '../events/types';
import { evaluateRules } from '../pipeline/evaluate';
import type {
  ChangeScope,
  CloudAction,
  Evaluation,
  EvaluationContext,
  Guard,
  ModedFinding,
  Observation,
  PlannedFix,
} from '../pipeline/types';
import {
  analysePolicy,
  type PolicyAnalysis,
  type PolicyFinding,
  PolicyShapeError,
  statementsToStrip,
  stripStatements,
} from '../policy';
import { evaluateExceptions, narrowException } from '../rule-exceptions';
import { type PolicyChangeSubject, policyChangeRules, policyRules } from '../rules';
import { atLeast, type Severity } from '../severity';
import {
  droppedDenies,
  keepLiveDenies,
  RepairConflictError,
  samePolicy,
  statementMayDeny,
  wideningOf,
} from './policy-repair';
import { latestSnapshot } from './policy-snapshots';

interface PolicyState {
  bucket: string;
  /** The live policy text, or null when the bucket has none. */
  policy: string | null;
  /** GetBucketPolicyStatus: whether OSS itself calls the policy public. */
  ossIsPublic: boolean;
  tags: Record<string, string>;
  /** GetBucketInfo: when this bucket (not an earlier one of the same name) was created, and its owner. */
  bucketCreatedAt: string;
  ownerId: string;
  /**
   * The newest snapshot of a policy of this bucket name that passed, undefined when there is none: what a
   * restore puts back, and what a change is compared with (a Deny it dropped). Read in `observe` so that
   * `evaluate` needs no I/O.
   */
  lastPassing?: Awaited<ReturnType<typeof latestSnapshot>>;
}

/** A repair (the fix as data: every repair sets the policy to something), or why policy.mode cannot repair this policy (then the guard alerts and says so). */
type RepairPlan = PlannedFix | { unavailable: string };

/**
 * oss-policy-guard: PutBucketPolicy and DeleteBucketPolicy. The event only names the bucket; the policy and
 * OSS's own verdict on it come from GetBucketPolicy and GetBucketPolicyStatus, the judgement from the
 * analyser in shared/policy.
 */
export const policyGuard: Guard<PolicyState> = {
  name: 'oss-policy-guard',
  events: POLICY_GUARD_EVENTS,
  // OSS has no conditional policy write: a policy change between the repair's re-read and its write is
  // overwritten. A tagging call changes nothing the repair writes.
  overwritesLaterChanges: BUCKET_POLICY_EVENTS,
  // A tag may grant an exception, but sets no policy.
  rereadOnly: BUCKET_TAGGING_EVENTS,

  async observe(change, scope): Promise<Observation<PolicyState>> {
    const { oss, config } = scope;
    const bucket = change.resources.bucket;
    if (!bucket)
      throw new EventParseError(`${change.eventName} event names no bucket`, { eventId: change.eventId });
    let state: PolicyState;
    try {
      const [policy, ossIsPublic, tags, info, lastPassing] = await Promise.all([
        oss.getBucketPolicy(bucket),
        oss.getBucketPolicyStatus(bucket),
        oss.getBucketTags(bucket),
        oss.getBucketInfo(bucket),
        latestSnapshot(
          auditGateway(scope),
          config.audit.bucket,
          bucket,
          scope.auditKey,
          scope.now,
          scope.previousAuditKey,
        ),
      ]);
      state = {
        bucket,
        policy,
        ossIsPublic,
        tags,
        bucketCreatedAt: info.createdAt,
        ownerId: info.ownerId,
        ...(lastPassing ? { lastPassing } : {}),
      };
      if (policy !== null && ossIsPublic && !analyseState(change, state, config).public) {
        // OSS's verdict fails the policy closed, so it must be a verdict on this very policy, not a read torn
        // by a change between the two calls: read the policy, the verdict, and the policy again, in order.
        const first = await oss.getBucketPolicy(bucket);
        state.ossIsPublic = await oss.getBucketPolicyStatus(bucket);
        state.policy = await oss.getBucketPolicy(bucket);
        if (!samePolicy(first, state.policy))
          throw new RepairConflictError(
            `the policy of bucket ${bucket} kept changing while it was read; judged on its next event`,
            { bucket },
          );
      }
    } catch (error) {
      if (isNotFound(error)) return { kind: 'gone', reason: `bucket ${bucket} no longer exists` };
      throw error;
    }
    return { kind: 'present', state };
  },

  evaluate(change, state, context): Evaluation {
    const { config, now } = context;
    const { failOn, mode } = config.policy;
    const noticed = changeFindings(change, state, config);
    const dropped = noticed.filter((f) => f.ruleId === 'policy-deny-removed');
    const droppedReason = `alert only: ${noticed.map((f) => f.message).join('; ')}`;
    if (state.policy === null) {
      // No policy grants nothing, so it passes (restoring it later means deleting whatever replaced it),
      // but a deletion that took a Deny with it is alerted.
      return {
        findings: noticed,
        exceptions: { ignored: [] },
        before: { policy: null, ossIsPublic: state.ossIsPublic },
        compliantReason: `bucket ${state.bucket} has no policy`,
        alertReason: droppedReason,
        bookkeeping: [snapshotOf(change, state, now)],
      };
    }
    const { analysis, judged, failingAsConfigured, exceptions, repairDue } = judgeState(
      change,
      state,
      context,
    );
    const plan = repairDue ? planRepair(change, state, analysis, failingAsConfigured, config) : undefined;
    const fix = plan && 'actions' in plan ? plan : undefined;
    const unavailable = plan && 'unavailable' in plan ? plan.unavailable : undefined;
    // A mode that cannot repair this policy alerts instead, and the record says the mode that applied.
    const findings = unavailable ? judged.map(asAlert) : judged;
    const failing = failingOf(findings, failOn);
    return {
      findings: [...failing, ...noticed],
      recorded: [...findings, ...noticed],
      exceptions: narrowException(
        exceptions,
        dropped.map((f) => f.ruleId),
      ),
      before: beforeOf(state, analysis, context),
      ...(fix ? { fix } : {}),
      compliantReason:
        `the policy passes: no finding at or above ${failOn}` +
        (findings.length > 0 ? `; ${findings.length} lower finding(s) recorded` : ''),
      alertReason: unavailable
        ? `policy.mode ${mode} cannot repair this policy: ${unavailable}; alerting instead`
        : failing.length === 0
          ? droppedReason
          : `alert mode: ${failing.length} finding(s) at or above ${failOn}; the fixes are below`,
      advice: findings.map(fixOf),
      // A policy OSS calls public is never kept as passing, whatever rules.<id> switched off.
      ...(failing.length === 0 && !state.ossIsPublic
        ? { bookkeeping: [snapshotOf(change, state, now)] }
        : {}),
    };
  },
};

/** The policy judged under the config, and whether a repair is due: an enforced failing finding, no exception. */
function judgeState(change: ChangeRecord, state: PolicyState, { config, now }: EvaluationContext) {
  const analysis = withOssVerdict(analyseState(change, state, config), state.ossIsPublic);
  const judged = judge(analysis, config);
  const failingAsConfigured = failingOf(judged, config.policy.failOn);
  const exceptions = narrowException(
    evaluateExceptions(
      state.bucket,
      config.exceptions.buckets.map((e) => ({ pattern: e.bucket, ...e })),
      state.tags,
      config.exceptions,
      now,
      change.accountId,
    ),
    failingAsConfigured.map((f) => f.ruleId),
  );
  const repairDue = !exceptions.applied && failingAsConfigured.some((f) => f.mode === 'enforce');
  return { analysis, judged, failingAsConfigured, exceptions, repairDue };
}

/**
 * What the change did beyond the policy it left: a Deny of the last passing policy of this very bucket
 * (same CreationDate) gone, or the exception tag set by a tagging call. Always alerts: which Deny the owner
 * meant to keep, and whether an exception is legitimate, are theirs to say.
 */
function changeFindings(change: ChangeRecord, state: PolicyState, config: OssguardConfig): ModedFinding[] {
  const snapshot = state.lastPassing?.snapshot;
  const sameBucket = snapshot !== undefined && snapshot.bucketCreatedAt === state.bucketCreatedAt;
  const { tagKey } = config.exceptions;
  const exceptionTag = state.tags[tagKey];
  const subject: PolicyChangeSubject = {
    bucket: state.bucket,
    policy: state.policy,
    droppedDenies: sameBucket ? droppedDenies(snapshot.policy, state.policy) : [],
    ...((BUCKET_TAGGING_EVENTS as readonly string[]).includes(change.eventName)
      ? { tagging: { tagKey, ...(exceptionTag === undefined ? {} : { exceptionTag }) } }
      : {}),
  };
  return evaluateRules(policyChangeRules, subject, config).map(asAlert);
}

/** The analyser's fix, which the rule entry keeps in the finding's evidence, as an alert line. */
function fixOf(f: ModedFinding): string {
  const where = f.evidence.statement === null ? 'whole policy' : `statement ${f.evidence.statement}`;
  return `Fix for ${f.ruleId} (${where}): ${f.evidence.fix}`;
}

/** A bucket's policy analysed with the config's zone of trust; the sweep judges the same way. */
export function analyseBucketPolicy(
  policy: string,
  bucket: string,
  ownerAccountId: string,
  config: OssguardConfig,
): PolicyAnalysis {
  return analysePolicy(policy, {
    bucket,
    ownerAccountId,
    trustedAccounts: config.policy.trustedAccounts,
    knownPrincipals: config.policy.knownPrincipals,
  });
}

const analyseState = (change: ChangeRecord, state: PolicyState, config: OssguardConfig): PolicyAnalysis =>
  analyseBucketPolicy(state.policy ?? '', state.bucket, state.ownerId || (change.accountId ?? ''), config);

/**
 * OSS's own verdict wins (fail closed): when GetBucketPolicyStatus calls the policy public and the analyser
 * does not, the analysis gains a critical whole-policy finding, so the policy fails at any policy.failOn,
 * strip cannot "repair" it, and it is never kept as a restore point.
 */
function withOssVerdict(analysis: PolicyAnalysis, ossIsPublic: boolean): PolicyAnalysis {
  if (!ossIsPublic || analysis.public) return analysis;
  const finding: PolicyFinding = {
    rule: 'anonymous-principal',
    severity: 'critical',
    statement: null,
    message:
      'OSS itself calls this policy public (GetBucketPolicyStatus) although the analyser does not: public is public',
    fix: 'rewrite the policy so that GetBucketPolicyStatus answers IsPublic false (look for values with stray spaces or unusual forms)',
  };
  return { ...analysis, public: true, findings: [finding, ...analysis.findings] };
}

/** A policy rule's mode is `rules.<id>` when set, else what policy.mode implies. */
export const judge = (analysis: PolicyAnalysis, config: OssguardConfig): ModedFinding[] =>
  evaluateRules(policyRules, analysis, config, () => (config.policy.mode === 'alert' ? 'alert' : 'enforce'));

const failingOf = (findings: readonly ModedFinding[], failOn: Severity): ModedFinding[] =>
  findings.filter((f) => atLeast(f.severity, failOn));

const asAlert = (f: ModedFinding): ModedFinding => (f.mode === 'enforce' ? { ...f, mode: 'alert' } : f);

/** The analyser's verdict and OSS's side by side: they should agree, and a disagreement is itself evidence. */
function beforeOf(state: PolicyState, analysis: PolicyAnalysis, { log }: EvaluationContext): StateSnapshot {
  const agree = analysis.public === state.ossIsPublic;
  if (!agree) {
    log.warn('the analyser and GetBucketPolicyStatus disagree on whether the policy is public', {
      bucket: state.bucket,
      analyserPublic: analysis.public,
      ossIsPublic: state.ossIsPublic,
    });
  }
  return {
    policy: state.policy,
    public: analysis.public,
    ossIsPublic: state.ossIsPublic,
    statements: analysis.statements,
    ...(agree ? {} : { publicMismatch: true }),
  };
}

/** Passing policies are kept for `policy.mode: restore`, which puts the last one back. */
function snapshotOf(change: ChangeRecord, state: PolicyState, now: Date): CloudAction {
  return {
    kind: 'keep-policy-snapshot',
    snapshot: {
      bucket: state.bucket,
      policy: state.policy,
      takenAt: now.toISOString(),
      eventId: change.eventId,
      bucketCreatedAt: state.bucketCreatedAt,
    },
  };
}

function planRepair(
  change: ChangeRecord,
  state: PolicyState,
  analysis: PolicyAnalysis,
  failing: readonly ModedFinding[],
  config: OssguardConfig,
): RepairPlan {
  const { bucket } = state;
  const plan = planCandidate(change, state, analysis, failing, config);
  if ('unavailable' in plan) return plan;
  // Whatever the mode: keep the live Denies, and never write a policy that grants more than the live one.
  const target = keepLiveDenies(plan.policy, state.policy);
  if (target === undefined)
    return { unavailable: 'the live policy cannot be read, so its Denies are unknown' };
  const widening = wideningOf(target, state.policy);
  if (widening) return { unavailable: widening };
  const kept = target === plan.policy ? '' : ' (the live Deny statements kept)';
  return setPolicy(bucket, target, state.policy, `${plan.description}${kept}`, plan.note);
}

type Candidate =
  | { policy: string | null; description: string; note: StateSnapshot }
  | { unavailable: string };

function planCandidate(
  change: ChangeRecord,
  state: PolicyState,
  analysis: PolicyAnalysis,
  failing: readonly ModedFinding[],
  config: OssguardConfig,
): Candidate {
  const { mode, failOn } = config.policy;
  const { bucket, policy } = state;
  switch (mode) {
    case 'alert':
      return {
        unavailable: 'alert mode never changes a policy (rules.<id>: enforce needs restore, strip or delete)',
      };
    case 'delete':
      return { policy: null, description: `delete the policy of bucket ${bucket}`, note: {} };
    case 'strip': {
      // Only statements that enforced rules object to: a rule set to alert keeps its statements.
      const enforced = new Set(failing.filter((f) => f.mode === 'enforce').map((f) => f.ruleId));
      const indexes = statementsToStrip(
        { ...analysis, findings: analysis.findings.filter((f) => enforced.has(f.rule)) },
        failOn,
      );
      if (!indexes) {
        const whole = failing.filter((f) => f.mode === 'enforce' && f.evidence.statement === null);
        return {
          unavailable: `${whole.map((f) => f.ruleId).join(', ')} concerns the whole policy, which removing statements cannot repair`,
        };
      }
      const deny = indexes.find((i) => statementMayDeny(policy ?? '', i));
      if (deny !== undefined)
        return {
          unavailable: `a failing finding sits on statement ${deny}, which may Deny: ossguard never removes a Deny`,
        };
      let stripped: string | null;
      try {
        stripped = stripStatements(policy ?? '', indexes);
      } catch (error) {
        if (error instanceof PolicyShapeError) return { unavailable: error.message };
        throw error;
      }
      const removed = indexes.join(', ');
      return {
        policy: stripped,
        description:
          stripped === null
            ? `delete the policy: every statement (${removed}) fails`
            : `remove statement(s) ${removed} from the policy`,
        note: { removedStatements: removed },
      };
    }
    case 'restore': {
      const latest = state.lastPassing;
      if (!latest) return { unavailable: `no policy of bucket ${bucket} has passed since snapshots began` };
      const { key, snapshot } = latest;
      if (!snapshot) return { unavailable: `the newest snapshot ${key} is not a policy snapshot` };
      // Snapshots outlive their bucket: only one of this bucket (same creation time) may come back.
      if (snapshot.bucketCreatedAt !== state.bucketCreatedAt)
        return {
          unavailable: `the newest snapshot ${key} is of a bucket created ${snapshot.bucketCreatedAt ?? 'at an unknown time'}, not of this one (created ${state.bucketCreatedAt})`,
        };
      const owner = state.ownerId || (change.accountId ?? '');
      const stillPasses =
        snapshot.policy === null ||
        failingOf(judge(analyseBucketPolicy(snapshot.policy, bucket, owner, config), config), failOn)
          .length === 0;
      if (!stillPasses)
        return { unavailable: `the last policy that passed (${key}) fails under the current config` };
      return {
        policy: snapshot.policy,
        description:
          snapshot.policy === null
            ? `restore the state of ${snapshot.takenAt}, when the bucket had no policy (delete the policy)`
            : `restore the policy that passed at ${snapshot.takenAt}`,
        note: { restoredFrom: key },
      };
    }
  }
}

function setPolicy(
  bucket: string,
  policy: string | null,
  replaces: string | null,
  description: string,
  note: StateSnapshot,
): PlannedFix {
  return {
    description,
    actions: [
      policy === null
        ? { kind: 'delete-bucket-policy', bucket, replaces }
        : { kind: 'put-bucket-policy', bucket, policy, replaces },
    ],
    after: { policy, ...note },
  };
}

function auditGateway(scope: ChangeScope): OssGateway {
  if (!scope.audit)
    throw new Error('oss-policy-guard keeps policy snapshots in the audit bucket: pass scope.audit');
  return scope.audit;
}
