import type { PolicyAnalysis } from '../../policy';
import type { RuleCases } from '../types';
import { analysedStatement } from './statement.cases';
import { wildcardAction } from './wildcard-action';

export const cases: RuleCases<PolicyAnalysis> = {
  rule: wildcardAction,
  fires: [
    { name: 'oss:* for a known RAM user', subject: analysedStatement({ Action: ['oss:*'] }) },
    { name: 'a bare "*" action', subject: analysedStatement({ Action: '*' }) },
  ],
  silent: [{ name: 'one named read action', subject: analysedStatement() }],
};
