import { INVALID_POLICY } from '../../policy/types';
import { policyRule } from './rule';

/** Its findings come from the parser (shared/policy/parse-bucket-policy.ts), which knows what OSS rejects. */
export const invalidPolicy = policyRule({
  id: INVALID_POLICY,
  order: 90,
  title: 'Bucket policy is invalid or unreadable',
  rationale:
    'A policy that OSS would reject, or that cannot be parsed, cannot be shown to be safe, so ossguard ' +
    'never treats it as safe.',
  docUrl: 'https://www.alibabacloud.com/help/en/oss/user-guide/authorization-syntax-and-elements',
  severity: 'high',
  firesWhen:
    'OSS would reject the policy, it cannot be parsed, or it names a key twice in one object; never judged safe',
  severityNote: 'high (medium where OSS may accept it)',
});
