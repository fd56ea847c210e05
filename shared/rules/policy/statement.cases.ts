import { analysePolicy, type PolicyAnalysis, type PolicyContext } from '../../policy';

export const OWNER = '1234567890123456';
export const RAM_USER = '2000000000000001';
export const PARTNER = '3000000000000001';
export const STRANGER = '9999999999999999';
export const BUCKET_ARN = `acs:oss:*:${OWNER}:examplebucket`;
export const HTTPS = { Bool: { 'acs:SecureTransport': 'true' } };
export const VPC = { StringEquals: { 'acs:SourceVpc': ['vpc-t4nlw426y44rd3iq4xxxx'] } };

/** The bucket's owner and who it knows: what the policy guard judges a principal against. */
export const POLICY_CONTEXT: PolicyContext = {
  bucket: 'examplebucket',
  ownerAccountId: OWNER,
  trustedAccounts: [PARTNER],
  knownPrincipals: [RAM_USER],
};

/** A statement no rule objects to (a known RAM user reading one prefix over HTTPS), changed by `patch`. */
export const statement = (patch: Record<string, unknown> = {}): Record<string, unknown> => ({
  Effect: 'Allow',
  Principal: [RAM_USER],
  Action: ['oss:GetObject'],
  Resource: [`${BUCKET_ARN}/reports/*`],
  Condition: HTTPS,
  ...patch,
});

/** For the policy rules' case tables: `statement(patch)` in a policy, analysed as the policy guard would. */
export const analysedStatement = (patch: Record<string, unknown> = {}): PolicyAnalysis =>
  analysedPolicy({ Version: '1', Statement: [statement(patch)] });

export const analysedPolicy = (policy: unknown): PolicyAnalysis => analysePolicy(policy, POLICY_CONTEXT);
