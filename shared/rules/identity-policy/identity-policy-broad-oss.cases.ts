import type { RuleCases } from '../types';
import { identityPolicyBroadOss } from './identity-policy-broad-oss';
import type { IdentityPolicySubject } from './subject';

const custom = (...statements: object[]): IdentityPolicySubject => ({
  policyName: 'app-policy',
  policyType: 'Custom',
  versionId: 'v1',
  document: JSON.stringify({ Version: '1', Statement: statements }),
});

export const cases: RuleCases<IdentityPolicySubject> = {
  rule: identityPolicyBroadOss,
  fires: [
    {
      name: 'oss:* on every bucket',
      subject: custom({ Effect: 'Allow', Action: 'oss:*', Resource: 'acs:oss:*:*:*' }),
    },
    {
      name: 'PutBucketAcl on one whole bucket',
      subject: custom({ Effect: 'Allow', Action: ['oss:PutBucketAcl'], Resource: ['acs:oss:*:*:photos'] }),
    },
    {
      name: 'uploads to all objects of a bucket',
      subject: custom({ Effect: 'Allow', Action: ['oss:PutObject'], Resource: ['acs:oss:*:*:photos/*'] }),
    },
    { name: 'everything on everything', subject: custom({ Effect: 'Allow', Action: '*', Resource: '*' }) },
  ],
  silent: [
    {
      name: 'reads of a whole bucket',
      subject: custom({
        Effect: 'Allow',
        Action: ['oss:GetObject', 'oss:ListObjects'],
        Resource: ['acs:oss:*:*:photos/*'],
      }),
    },
    {
      name: 'uploads under one prefix',
      subject: custom({
        Effect: 'Allow',
        Action: ['oss:PutObject'],
        Resource: ['acs:oss:*:*:photos/uploads/*'],
      }),
    },
    { name: 'a Deny of everything', subject: custom({ Effect: 'Deny', Action: 'oss:*', Resource: '*' }) },
    { name: 'another service', subject: custom({ Effect: 'Allow', Action: 'ecs:*', Resource: '*' }) },
    {
      name: 'a system policy (judged by name)',
      subject: { policyName: 'AliyunOSSFullAccess', policyType: 'System' },
    },
  ],
};
