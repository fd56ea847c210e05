import type { PolicyAnalysis } from '../../policy';
import type { RuleCases } from '../types';
import { aclWriteGranted } from './acl-write-granted';
import { analysedStatement, OWNER, PARTNER, STRANGER, VPC } from './statement.cases';

export const cases: RuleCases<PolicyAnalysis> = {
  rule: aclWriteGranted,
  fires: [
    {
      name: 'anyone may set object ACLs, even pinned to a VPC',
      subject: analysedStatement({ Principal: ['*'], Action: ['oss:PutObjectAcl'], Condition: VPC }),
    },
    {
      name: 'a stranger may rewrite the bucket policy',
      subject: analysedStatement({ Principal: [STRANGER], Action: 'oss:PutBucketPolicy' }),
    },
    {
      name: 'a trusted partner may set the bucket ACL (trusted is still outside the owner account)',
      subject: analysedStatement({ Principal: [PARTNER], Action: ['oss:GetObject', 'oss:PutBucketAcl'] }),
    },
    {
      name: "a stranger's role may delete the bucket policy, action written in lower case",
      subject: analysedStatement({
        Principal: [`acs:ram::${STRANGER}:role/ops`],
        Action: ['oss:deletebucketpolicy'],
      }),
    },
    {
      name: 'a stranger gets PutObjectAcl through oss:PutObject*, which wildcard-action leaves alone',
      subject: analysedStatement({ Principal: [STRANGER], Action: ['oss:PutObject*'] }),
    },
  ],
  silent: [
    { name: 'a known RAM user reading', subject: analysedStatement() },
    {
      name: 'the owner account setting ACLs',
      subject: analysedStatement({ Principal: [OWNER], Action: ['oss:PutObjectAcl', 'oss:PutBucketPolicy'] }),
    },
    {
      name: "a role of the owner's account rewriting the policy",
      subject: analysedStatement({
        Principal: [`acs:ram::${OWNER}:role/ops`],
        Action: 'oss:PutBucketPolicy',
      }),
    },
    {
      name: 'a stranger denied ACL writes',
      subject: analysedStatement({ Effect: 'Deny', Principal: [STRANGER], Action: 'oss:PutObjectAcl' }),
    },
    {
      name: 'a stranger writing objects without ACL rights',
      subject: analysedStatement({ Principal: [STRANGER], Action: ['oss:PutObject', 'oss:GetObject'] }),
    },
    {
      name: 'oss:* for a stranger: wildcard-action reports it',
      subject: analysedStatement({ Principal: [STRANGER], Action: 'oss:*' }),
    },
    {
      name: 'oss:Put* for anyone: wildcard-action reports it',
      subject: analysedStatement({ Principal: ['*'], Action: 'oss:Put*' }),
    },
  ],
};
