import { policyRule } from './rule';

export const wholeBucketResource = policyRule('whole-bucket-resource', {
  title: 'Bucket policy covers every object',
  rationale:
    'A grant on bucket/* reaches every object, present and future. Alibaba Cloud advises granting ' +
    'permissions only on the specific paths required.',
  firesWhen: 'the grant covers every object where a prefix would do',
});
