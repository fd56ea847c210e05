/**
 * Bucket policy analysis: pure functions over a policy document, shared by oss-policy-guard and
 * `ossguard check-policy`. Nothing here performs I/O.
 */
export { analysePolicy } from './analyse';
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
