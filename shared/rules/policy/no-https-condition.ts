import { policyRule } from './rule';

export const noHttpsCondition = policyRule('no-https-condition', {
  title: 'Bucket policy allows plain HTTP',
  rationale:
    'Without acs:SecureTransport, requests and the data they carry can travel unencrypted and be read ' +
    'or altered in transit.',
  firesWhen: 'an Allow is usable over plain HTTP (no `acs:SecureTransport`, no Deny for HTTP)',
});
