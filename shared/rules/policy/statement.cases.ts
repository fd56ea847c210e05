import { analysePolicy, type PolicyAnalysis, type PolicyContext } from '../../policy';

export const OWNER = '1234567890123456';
const RAM_USER = '2000000000000001';
export const PARTNER = '3000000000000001';
export const STRANGER = '9999999999999999';
export const BUCKET_ARN = `acs:oss:*:${OWNER}:examplebucket`;
export const HTTPS = { Bool: { 'acs:SecureTransport': 'true' } };
export const VPC = { StringEquals: { 'acs:SourceVpc': ['vpc-t4nlw426y44rd3iq4xxxx'] } };

const context: PolicyContext = {
  bucket: 'examplebucket',
  ownerAccountId: OWNER,
  trustedAccounts: [PARTNER],
  knownPrincipals: [RAM_USER],
};

/**
 * For the policy rules' case tables: a statement no rule objects to (a known RAM user reading one prefix
 * over HTTPS), changed by `patch`, analysed as the policy guard would.
 */
export const analysedStatement = (patch: Record<string, unknown> = {}): PolicyAnalysis =>
  analysedPolicy({
    Version: '1',
    Statement: [
      {
        Effect: 'Allow',
        Principal: [RAM_USER],
        Action: ['oss:GetObject'],
        Resource: [`${BUCKET_ARN}/reports/*`],
        Condition: HTTPS,
        ...patch,
      },
    ],
  });

export const analysedPolicy = (policy: unknown): PolicyAnalysis => analysePolicy(policy, context);
