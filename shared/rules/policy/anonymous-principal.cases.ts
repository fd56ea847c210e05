import type { PolicyAnalysis } from '../../policy';
import type { RuleCases } from '../types';
import { anonymousPrincipal } from './anonymous-principal';
import { analysedStatement, HTTPS, VPC } from './statement.cases';

export const cases: RuleCases<PolicyAnalysis> = {
  rule: anonymousPrincipal,
  fires: [
    { name: 'Principal "*" with no pinning condition', subject: analysedStatement({ Principal: ['*'] }) },
    { name: 'Principal [] (as "*")', subject: analysedStatement({ Principal: [] }) },
  ],
  silent: [
    { name: 'a known RAM user', subject: analysedStatement() },
    {
      name: '"*" pinned to a VPC',
      subject: analysedStatement({ Principal: ['*'], Condition: { ...HTTPS, ...VPC } }),
    },
  ],
};
