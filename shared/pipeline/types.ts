import type { DecisionKind, StateSnapshot } from '../audit/record';
import type { CallLog } from '../clients/calllog';
import type { OssGateway } from '../clients/oss';
import type { RamGateway } from '../clients/ram';
import type { OssguardConfig } from '../config/schema';
import type { ChangeRecord } from '../events/types';
import type { AppliedException, IgnoredException } from '../exceptions';
import type { Logger } from '../log';
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
}

/**
 * What `resolve` asks before it reverts: whether the blast-radius cap leaves room. `starting` hears what is
 * being done as the revert is sent and runs alongside it (the pipeline writes its intent record there); it
 * must not reject, since the revert it would abort may already have landed.
 */
export interface RemediationGate {
  take(): boolean;
  starting?(planned: Decision): Promise<void>;
}

/** The remediations left in this invocation (the blast-radius cap), shared by all its changes. */
export class RemediationBudget implements RemediationGate {
  constructor(private remaining: number) {}

  take(): boolean {
    if (this.remaining <= 0) return false;
    this.remaining -= 1;
    return true;
  }
}

/** Everything a guard may use for one change. Cloud access goes through the gateways, which log request ids. */
export interface ChangeScope {
  config: OssguardConfig;
  oss: OssGateway;
  /**
   * OSS in the audit bucket's region, for state a guard keeps beside the audit records (policy snapshots).
   * The pipeline always sets it; guards that keep no state are driven without it.
   */
  audit?: OssGateway;
  /** Present only in functions built with RAM clients (the AccessKey guard). */
  ram?: RamGateway;
  calls: CallLog;
  budget: RemediationGate;
  now: Date;
  log: Logger;
}

/** Live state a guard read for a change, or the fact that the resource no longer exists. */
export type Observation<State> = { kind: 'present'; state: State } | { kind: 'gone'; reason: string };

/**
 * A guard in two phases. `observe` only reads (the pipeline runs it in parallel with the audit-record
 * existence check, so a redelivered event costs no extra round trip); `decide` judges and acts.
 */
export interface Guard<State> {
  name: GuardName;
  events: readonly string[];
  observe(change: ChangeRecord, scope: ChangeScope): Promise<Observation<State>>;
  decide(change: ChangeRecord, state: State, scope: ChangeScope): Promise<Decision>;
}
