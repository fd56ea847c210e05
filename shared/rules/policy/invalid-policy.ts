import { policyRule } from './rule';

export const invalidPolicy = policyRule('invalid-policy', {
  title: 'Bucket policy is invalid or unreadable',
  rationale:
    'A policy that OSS would reject, or that cannot be parsed, cannot be shown to be safe, so ossguard ' +
    'never treats it as safe.',
});
