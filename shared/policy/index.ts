/**
 * Bucket policy analysis: pure functions over a policy document, shared by oss-policy-guard and
 * `ossguard check-policy`. Nothing here performs I/O.
 */

/** Action and resource logic the identity-policy rules judge by too (an identity policy has no Principal). */
export { actionsIn, DATA_READS, isFullWildcard, isWriteAction } from './actions';
export { analysePolicy } from './analyse';
export { parseResourceArn } from './parse-bucket-policy';
export type {
  PolicyAnalysis,
  PolicyContext,
  PolicyFinding,
  PolicyRuleId,
} from './types';
export {
  failingFindings,
  inferTarget,
  PolicyShapeError,
  policyPasses,
  statementsToStrip,
  stripStatements,
} from './verdict';
