import type { OssguardConfig } from '../config/schema';
import type { Decision, Evaluation, PlannedFix, RemediationBudget } from './types';

/** A decision, and the fix to carry out when (and only when) the decision is `remediated`. */
export interface Plan {
  decision: Decision;
  fix?: PlannedFix;
  /** The blast-radius cap held the fix back: the change waits for a follow-up invocation. */
  capped?: boolean;
}

/**
 * The decision ladder every guard shares: nothing fired → skipped; an exception applies → excepted; some
 * finding in enforce mode → remediated (or dry-run, or alerted when the blast-radius cap is spent);
 * otherwise alerted. No I/O: the only state it touches is the invocation's budget.
 */
export function plan(e: Evaluation, config: OssguardConfig, budget: RemediationBudget): Plan {
  const ignoredExceptions =
    e.exceptions.ignored.length > 0 ? { ignoredExceptions: e.exceptions.ignored } : {};
  const base = {
    findings: e.recorded ?? e.findings,
    before: e.before,
    ...ignoredExceptions,
    ...(e.advice ? { advice: e.advice } : {}),
  };
  const remediation = e.fix?.description ?? '';
  if (e.findings.length === 0)
    return { decision: { ...base, decision: 'skipped', reason: e.compliantReason } };
  if (e.exceptions.applied) {
    const { applied } = e.exceptions;
    return {
      decision: {
        ...base,
        decision: 'excepted',
        exception: applied,
        reason: `exception (${applied.source} ${applied.match}${applied.until ? `, until ${applied.until}` : ''}): ${applied.reason}`,
      },
    };
  }
  if (!e.findings.some((f) => f.mode === 'enforce')) {
    return {
      decision: { ...base, decision: 'alerted', reason: e.alertReason ?? `alert mode: would ${remediation}` },
    };
  }
  if (config.dryRun)
    return { decision: { ...base, decision: 'dry-run', reason: `dry-run: would ${remediation}` } };
  if (!budget.take()) {
    return {
      decision: {
        ...base,
        decision: 'alerted',
        reason: `blast-radius cap of ${config.maxRemediationsPerInvocation} remediations per invocation reached: did not ${remediation}`,
      },
      // A cap of 0 means "never remediate": those changes are alerted on, not handed on for ever.
      ...(config.maxRemediationsPerInvocation > 0 ? { capped: true } : {}),
    };
  }
  if (!e.fix)
    throw new Error('a finding in enforce mode with no fix: a guard must alert when it cannot repair');
  return { decision: { ...base, decision: 'remediated', reason: e.fix.description }, fix: e.fix };
}
