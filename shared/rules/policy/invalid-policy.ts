import { policyRule } from './rule';

export const invalidPolicy = policyRule('invalid-policy', {
  title: 'Bucket policy is invalid or unreadable',
  rationale:
    'A policy that OSS would reject, or that cannot be parsed, cannot be shown to be safe, so ossguard ' +
    'never treats it as safe.',
  firesWhen: 'OSS would reject the policy, or it cannot be parsed; never judged safe',
  severityNote: 'high (medium where OSS may accept it)',
});
