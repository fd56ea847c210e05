import type { PolicyAnalysis } from '../../policy';
import type { RuleCases } from '../types';
import { invalidPolicy } from './invalid-policy';
import { analysedPolicy, analysedStatement } from './statement.cases';

export const cases: RuleCases<PolicyAnalysis> = {
  rule: invalidPolicy,
  fires: [
    { name: 'text that is not JSON', subject: analysedPolicy('{ not json') },
    { name: 'a Version OSS does not know', subject: analysedPolicy({ Version: '2', Statement: [] }) },
  ],
  silent: [{ name: 'a well-formed policy', subject: analysedStatement() }],
};
