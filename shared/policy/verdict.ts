import { GuardError } from '../errors';
import { atLeast, type Severity } from '../severity';
import { isRecord, parseResourceArn } from './parse-bucket-policy';
import type { PolicyAnalysis, PolicyFinding } from './types';

/** The document is not a JSON object with a Statement list, so statements cannot be taken out of it. */
export class PolicyShapeError extends GuardError {}

export const failingFindings = (analysis: PolicyAnalysis, failOn: Severity): PolicyFinding[] =>
  analysis.findings.filter((f) => atLeast(f.severity, failOn));

/** A policy passes when no finding reaches the threshold (policy.failOn, `--fail-on`). */
export const policyPasses = (analysis: PolicyAnalysis, failOn: Severity): boolean =>
  failingFindings(analysis, failOn).length === 0;

/**
 * Statements whose removal would clear every failing finding, or undefined when a failing finding concerns
 * the whole policy (unparseable, wrong Version, …): stripping cannot repair that, restoring or deleting can.
 */
export function statementsToStrip(analysis: PolicyAnalysis, failOn: Severity): number[] | undefined {
  const failing = failingFindings(analysis, failOn);
  if (failing.some((f) => f.statement === null)) return undefined;
  return [...new Set(failing.map((f) => f.statement as number))].sort((a, b) => a - b);
}

function readDocument(policy: unknown): Record<string, unknown> {
  let value = policy;
  if (typeof policy === 'string') {
    try {
      value = JSON.parse(policy);
    } catch (error) {
      throw new PolicyShapeError('the policy is not valid JSON', {}, { cause: error });
    }
  }
  if (!isRecord(value) || !(Array.isArray(value.Statement) || isRecord(value.Statement)))
    throw new PolicyShapeError('the policy is not an object with a Statement list');
  return value;
}

/**
 * The policy text without the statements at `indexes` (every other element kept as written), or null when
 * no statement is left: like Cloud Custodian's remove-statements, the caller then deletes the policy, since
 * OSS has no use for an empty one. Pure; throws PolicyShapeError when there is no Statement list to edit.
 */
export function stripStatements(policy: unknown, indexes: readonly number[]): string | null {
  const doc = readDocument(policy);
  const statements: unknown[] = Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
  const drop = new Set(indexes);
  const kept = statements.filter((_, i) => !drop.has(i));
  return kept.length === 0 ? null : JSON.stringify({ ...doc, Statement: kept });
}

/**
 * Bucket name and owner UID named by the Resource ARNs (`acs:oss:*:<uid>:<bucket>/…`), each only when every
 * ARN that names one agrees; wildcards name nothing.
 */
export function inferTarget(policy: unknown): { bucket?: string; ownerAccountId?: string } {
  let doc: Record<string, unknown>;
  try {
    doc = readDocument(policy);
  } catch {
    return {};
  }
  const statements = Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
  const arns = statements
    .flatMap((s) => (isRecord(s) ? [s.Resource].flat() : []))
    .flatMap((r) => (typeof r === 'string' ? (parseResourceArn(r) ?? []) : []));
  const only = (values: string[]): string | undefined => {
    const fixed = new Set(values.filter((v) => v.length > 0 && !/[*?]/.test(v)));
    return fixed.size === 1 ? [...fixed][0] : undefined;
  };
  const bucket = only(arns.map((a) => a.bucket));
  const ownerAccountId = only(arns.map((a) => a.owner));
  return { ...(bucket ? { bucket } : {}), ...(ownerAccountId ? { ownerAccountId } : {}) };
}
