import type { PolicyAnalysis } from '../../policy';
import type { RuleCases } from '../types';
import { anonymousPrincipal } from './anonymous-principal';
import { analysedStatement, HTTPS, VPC } from './statement.cases';

export const cases: RuleCases<PolicyAnalysis> = {
  rule: anonymousPrincipal,
  fires: [
    { name: 'Principal "*" with no pinning condition', subject: analysedStatement({ Principal: ['*'] }) },
    { name: 'Principal [] (as "*")', subject: analysedStatement({ Principal: [] }) },
    {
      name: '"*" with acs:SourceVpc vpc-???? (? is a wildcard, not a fixed VPC)',
      subject: analysedStatement({
        Principal: ['*'],
        Condition: { StringLike: { 'acs:SourceVpc': 'vpc-????' } },
      }),
    },
    {
      name: '"*" with acs:AccessId LTAI???? (? is a wildcard, not a fixed AccessKey)',
      subject: analysedStatement({
        Principal: ['*'],
        Condition: { StringLike: { 'acs:AccessId': 'LTAI????' } },
      }),
    },
    {
      name: '"*" from ::/32, which holds every IPv4 caller as ::ffff:a.b.c.d',
      subject: analysedStatement({
        Principal: ['*'],
        Condition: { IpAddress: { 'acs:SourceIp': '::/32' }, StringNotLike: { 'acs:SourceVpc': 'vpc-*' } },
      }),
    },
    {
      name: '"*" from ::ffff:0.0.0.0/96, every IPv4 address',
      subject: analysedStatement({
        Principal: ['*'],
        Condition: {
          IpAddress: { 'acs:SourceIp': '::ffff:0.0.0.0/96' },
          StringNotLike: { 'acs:SourceVpc': 'vpc-*' },
        },
      }),
    },
  ],
  silent: [
    { name: 'a known RAM user', subject: analysedStatement() },
    {
      name: '"*" pinned to a VPC',
      subject: analysedStatement({ Principal: ['*'], Condition: { ...HTTPS, ...VPC } }),
    },
  ],
};
