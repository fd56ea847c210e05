import type { Rule } from '../types';
import type { PolicyChangeSubject } from './subject';

/**
 * A Deny protects even where nothing in the policy grants (a public-read ACL, a RAM grant): deleting the
 * policy or dropping the Deny opens that up while the policy itself now "passes". Alert only: which Deny
 * the owner meant to keep is theirs to say.
 */
export const policyDenyRemoved: Rule<PolicyChangeSubject> = {
  id: 'policy-deny-removed',
  events: ['PutBucketPolicy', 'DeleteBucketPolicy'],
  title: 'A protective Deny left the bucket policy',
  rationale:
    'An explicit Deny wins over every Allow, a public ACL included. Deleting a policy, or an update that ' +
    'only drops a Deny, removes that protection, and the policy left behind passes every other rule.',
  docUrl: 'https://www.alibabacloud.com/help/en/oss/user-guide/oss-bucket-policy/',
  severity: 'high',
  firesWhen: 'a Deny of the last passing policy of the bucket is gone (policy deleted or updated)',
  guard: 'oss-policy-guard',
  defaultMode: 'alert',
  readActions: ['oss:GetBucketPolicy', 'oss:ListObjects', 'oss:GetObject'],
  evaluate: (s) =>
    s.droppedDenies.length === 0
      ? undefined
      : {
          ruleId: 'policy-deny-removed',
          severity: 'high',
          message:
            `${s.policy === null ? 'deleting the policy' : 'the new policy'} of bucket ${s.bucket} dropped ` +
            `${s.droppedDenies.length} Deny statement(s) of the last policy that passed: ${s.droppedDenies.join('; ')}`,
          evidence: { droppedDenies: s.droppedDenies.length, deleted: s.policy === null },
        },
};
