import type { AuditKey, DecisionKind, StateSnapshot } from '../audit/record';
import type { CallLog } from '../clients/calllog';
import type { OssGateway } from '../clients/oss';
import type { PolicyPrincipal, RamGateway } from '../clients/ram';
import type { OssguardConfig } from '../config/schema';
import type { ChangeRecord } from '../events/types';
import type { PolicySnapshot } from '../guards/policy-snapshots';
import type { Logger } from '../log';
import type { AppliedException, ExceptionOutcome, IgnoredException } from '../rule-exceptions';
import type { ObjectAcl } from '../rules';
import type { GuardName, RuleFinding, RuleMode } from '../rules/types';

export type ModedFinding = RuleFinding & { mode: RuleMode };

/** What a guard concluded about one change; the pipeline turns it into an audit record and maybe an alert. */
export interface Decision {
  decision: DecisionKind;
  reason: string;
  findings: ModedFinding[];
  before?: StateSnapshot;
  after?: StateSnapshot;
  exception?: AppliedException;
  ignoredExceptions?: IgnoredException[];
  /** Extra lines for the alert: how to fix by hand, console steps, the fix for a policy finding. */
  advice?: string[];
  /** A `skipped` change whose resource passes because ossguard reverted it for an earlier event. */
  remediatedBy?: { eventId: string; eventName: string; auditKey: string };
}

/** One write ossguard may make, as data: `act` performs it, and nothing else decides whether it happens. */
export type CloudAction =
  | { kind: 'put-bucket-acl'; bucket: string; acl: 'private' }
  | { kind: 'put-object-acl'; bucket: string; key: string; acl: ObjectAcl }
  | { kind: 'put-bucket-public-access-block'; bucket: string }
  | { kind: 'put-account-public-access-block' }
  /** `replaces`: the policy judged; the write happens only over it (shared/guards/policy-repair.ts). */
  | { kind: 'put-bucket-policy'; bucket: string; policy: string; replaces: string | null }
  | { kind: 'delete-bucket-policy'; bucket: string; replaces: string | null }
  | { kind: 'disable-access-key'; userName: string; accessKeyId: string }
  | { kind: 'detach-policy'; principal: PolicyPrincipal; policyType: 'System' | 'Custom'; policyName: string }
  /** Only over `replaces`, the default version judged: a default changed since stands (shared/pipeline/act.ts). */
  | { kind: 'set-default-policy-version'; policyName: string; versionId: string; replaces: string }
  | { kind: 'untag-user'; userPrincipalName: string; tagKey: string }
  | { kind: 'keep-policy-snapshot'; snapshot: PolicySnapshot };

/** The revert enforce mode would make: what it is called, the writes, and the state they leave. */
export interface PlannedFix {
  description: string;
  actions: CloudAction[];
  after: StateSnapshot;
}

/** A guard's judgement of live state, as data: `plan` turns it into a decision, `act` carries out the fix. */
export interface Evaluation {
  /** The findings that decide (the policy guard's: those at or above `policy.failOn`). */
  findings: ModedFinding[];
  /** The findings the record keeps when they are more than the deciding ones (lower policy findings). */
  recorded?: ModedFinding[];
  exceptions: ExceptionOutcome;
  before: StateSnapshot;
  /** Absent when no fix exists for this state; then enforce mode cannot apply and the guard alerts. */
  fix?: PlannedFix;
  /** The reason of a `skipped` decision: why the state passes. */
  compliantReason: string;
  /** The reason of an alert-mode decision, when the guard says more than "would <fix>". */
  alertReason?: string;
  advice?: string[];
  /** Writes that follow from the judgement whatever the decision: snapshots of a passing bucket policy. */
  bookkeeping?: CloudAction[];
}

/** What a guard's `evaluate` may use: configuration and the clock, never a cloud client. */
export interface EvaluationContext {
  config: OssguardConfig;
  now: Date;
  log: Logger;
}

/** The remediations left in this invocation (the blast-radius cap), shared by all its changes. */
export class RemediationBudget {
  constructor(private remaining: number) {}

  take(): boolean {
    if (this.remaining <= 0) return false;
    this.remaining -= 1;
    return true;
  }
}

/** Everything a guard may use to read one change's state. Cloud access goes through the gateways, which log request ids. */
export interface ChangeScope extends EvaluationContext {
  oss: OssGateway;
  /**
   * OSS in the audit bucket's region, for state a guard keeps beside the audit records (policy snapshots).
   * The pipeline always sets it; guards that keep no state are driven without it.
   */
  audit?: OssGateway;
  /** Present only in functions built with RAM clients (the AccessKey guard). */
  ram?: RamGateway;
  /** The deploying account (FC's `context.accountId`), whose function role the member roles trust; undefined when FC did not say. */
  deployAccountId?: string;
  calls: CallLog;
  /** Seals the state a guard keeps beside the audit records, and checks it when read back. */
  auditKey?: AuditKey;
  /** The audit key's version before its latest rotation: state it sealed then is believed too. */
  previousAuditKey?: AuditKey;
}

/** Live state a guard read for a change, or the fact that the resource no longer exists. */
export type Observation<State> = { kind: 'present'; state: State } | { kind: 'gone'; reason: string };

/**
 * A guard in two phases. `observe` only reads (the pipeline runs it in parallel with the audit-record
 * existence check, so a redelivered event costs no extra round trip); `evaluate` judges what it read without
 * any I/O and returns the fix as data, which the pipeline plans and carries out.
 */
export interface Guard<State> {
  name: GuardName;
  events: readonly string[];
  observe(change: ChangeRecord, scope: ChangeScope): Promise<Observation<State>>;
  evaluate(change: ChangeRecord, state: State, context: EvaluationContext): Evaluation;
  /**
   * For a guard whose repair writes a whole state over whatever is live (a bucket policy), the events that
   * change that state: one landing between the repair's re-read and its write is lost rather than fixed too,
   * and is alerted (pipeline/remediated.ts `tiedToRemediation`, `overwrittenDuring`). The guard's other events
   * (a bucket's tags) change nothing the repair writes, so the repair loses none of them.
   */
  overwritesLaterChanges?: readonly string[];
  /**
   * Which of the guard's states a change touches, beside the resource it names (oss-acl-guard: a bucket's ACL, its
   * Block Public Access, an object's ACL): with the resource, what marks and a batch's order are keyed by
   * (shared/events/resource-identity.ts). Without it, a resource has one state.
   */
  stateOf?(change: ChangeRecord): string;
  /**
   * Events that only make the guard read the state again (a tag that may grant an exception, an upload's part):
   * they never lead a batch's changes of a resource (shared/pipeline/dedupe.ts `inResourceOrder`), so a repair is
   * recorded, and alerted, on a change that set the state.
   */
  rereadOnly?: readonly string[];
}
