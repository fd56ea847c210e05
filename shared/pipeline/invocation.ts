import type { AlertDispatcher } from '../alerts/dispatch';
import { CallLog } from '../clients/calllog';
import { type OssClientFactory, OssGateway } from '../clients/oss';
import { type RamApi, RamGateway } from '../clients/ram';
import type { Runtime } from '../config/load';
import { previousRuntimeAuditKey, runtimeAuditKey } from '../config/secrets';
import type { ChangeRecord } from '../events/types';
import type { Logger } from '../log';
import type { AccountClients, AccountPlacer } from './accounts';
import type { DecisionSummary, RetryableFailure } from './records';
import type { ChangeScope, RemediationBudget } from './types';

export interface InvocationDeps {
  runtime: Runtime;
  oss: OssClientFactory;
  ram?: RamApi;
  /** The function's region: where the audit bucket is unless the config names another. */
  region: string;
  /** The account the function runs in (FC's `context.accountId`, F-FC-CONTEXT-FIELDS): whose role is ossguard's own. */
  accountId?: string;
  /** Which account's clients act on a change (shared/pipeline/accounts.ts); without it, the function role's. */
  accounts?: AccountPlacer;
  dispatch: AlertDispatcher;
  log: Logger;
  /** The blast-radius cap's budget, when it spans several batches of one invocation (the sweep's). */
  budget?: RemediationBudget;
  /** Work handed on by an earlier invocation: the alert about what its cap held back went out then. */
  followUp?: boolean;
  /** The function and route that judge these changes, when it is not the guard's own function. */
  route?: string;
  /** Identifies the invocation, for audit keys of input that carries no event id. */
  invocationId: string;
  now?: () => Date;
}

export interface InvocationResult {
  decisions: DecisionSummary[];
  /** Changes not finished (cloud faults after retries, an intent held elsewhere); the handler fails the invocation so EventBridge redelivers. */
  retryableFailures: RetryableFailure[];
}

/**
 * The gateways one change is read and acted on with; they share a call log, whose request ids the record keeps.
 * A member's change is read and reverted with `member`'s clients (its role's session); the audit bucket is
 * always the deployment's own.
 */
export function changeScope(
  deps: InvocationDeps,
  change: ChangeRecord,
  now: Date,
  member?: AccountClients,
): ChangeScope {
  const { config } = deps.runtime;
  const calls = new CallLog();
  const auditKey = runtimeAuditKey(deps.runtime);
  const previousAuditKey = previousRuntimeAuditKey(deps.runtime);
  const ram = member ? member.ram : deps.ram;
  return {
    config,
    oss: new OssGateway(member?.oss ?? deps.oss, change.region, calls),
    audit: new OssGateway(deps.oss, config.audit.region ?? deps.region, calls),
    ...(ram ? { ram: new RamGateway(ram, calls) } : {}),
    ...(deps.accountId ? { deployAccountId: deps.accountId } : {}),
    calls,
    now,
    log: deps.log,
    ...(auditKey ? { auditKey } : {}),
    ...(previousAuditKey ? { previousAuditKey } : {}),
  };
}
