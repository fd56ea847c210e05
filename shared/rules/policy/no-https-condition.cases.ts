import type { PolicyAnalysis } from '../../policy';
import type { RuleCases } from '../types';
import { noHttpsCondition } from './no-https-condition';
import { analysedStatement } from './statement.cases';

export const cases: RuleCases<PolicyAnalysis> = {
  rule: noHttpsCondition,
  fires: [
    { name: 'an Allow without acs:SecureTransport', subject: analysedStatement({ Condition: undefined }) },
  ],
  silent: [{ name: 'an Allow over HTTPS only', subject: analysedStatement() }],
};
