import type { PolicyAnalysis } from '../../policy';
import type { RuleCases } from '../types';
import { noSourceRestriction } from './no-source-restriction';
import { analysedStatement, HTTPS, STRANGER } from './statement.cases';

export const cases: RuleCases<PolicyAnalysis> = {
  rule: noSourceRestriction,
  fires: [{ name: 'a stranger from any network', subject: analysedStatement({ Principal: [STRANGER] }) }],
  silent: [
    { name: 'a known RAM user', subject: analysedStatement() },
    {
      name: 'a stranger limited to a /24 outside any VPC',
      subject: analysedStatement({
        Principal: [STRANGER],
        Condition: {
          ...HTTPS,
          IpAddress: { 'acs:SourceIp': ['203.0.113.0/24'] },
          StringNotLike: { 'acs:SourceVpc': 'vpc-*' },
        },
      }),
    },
  ],
};
