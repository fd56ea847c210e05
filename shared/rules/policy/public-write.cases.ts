import type { PolicyAnalysis } from '../../policy';
import type { RuleCases } from '../types';
import { publicWrite } from './public-write';
import { analysedStatement, HTTPS, VPC } from './statement.cases';

export const cases: RuleCases<PolicyAnalysis> = {
  rule: publicWrite,
  fires: [
    {
      name: 'anonymous PutObject',
      subject: analysedStatement({ Principal: ['*'], Action: ['oss:GetObject', 'oss:PutObject'] }),
    },
    {
      name: 'anonymous DeleteObject even when pinned to a VPC',
      subject: analysedStatement({
        Principal: ['*'],
        Action: 'oss:DeleteObject',
        Condition: { ...HTTPS, ...VPC },
      }),
    },
  ],
  silent: [
    { name: 'a known RAM user reading', subject: analysedStatement() },
    { name: 'anonymous reads', subject: analysedStatement({ Principal: ['*'] }) },
  ],
};
