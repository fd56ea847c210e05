import type { PolicyAnalysis } from '../../policy';
import type { RuleCases } from '../types';
import { analysedStatement, BUCKET_ARN } from './statement.cases';
import { wholeBucketResource } from './whole-bucket-resource';

export const cases: RuleCases<PolicyAnalysis> = {
  rule: wholeBucketResource,
  fires: [
    { name: 'bucket/*', subject: analysedStatement({ Resource: [`${BUCKET_ARN}/*`] }) },
    { name: '"*"', subject: analysedStatement({ Resource: '*' }) },
  ],
  silent: [{ name: 'one prefix', subject: analysedStatement() }],
};
