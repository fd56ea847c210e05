import { BUCKET_TAGGING_EVENTS } from '../../events/names';
import type { Rule } from '../types';
import type { PolicyChangeSubject } from './subject';

/**
 * Whoever may tag a bucket may grant it an exception, so setting or changing the exception tag is itself a
 * change someone must see. Alert only.
 */
export const exceptionTagSet: Rule<PolicyChangeSubject> = {
  id: 'exception-tag-set',
  events: BUCKET_TAGGING_EVENTS,
  title: 'An exception tag was set on a bucket',
  rationale:
    'The exception tag waives rules for the bucket. Anyone with oss:PutBucketTagging can set it, so each ' +
    'tagging call that leaves the tag on the bucket is alerted, with the exception it now grants.',
  docUrl: 'https://www.alibabacloud.com/help/en/oss/user-guide/manage-bucket-tags',
  severity: 'high',
  firesWhen: 'a bucket tagging call leaves the exception tag (`exceptions.tagKey`) on the bucket',
  guard: 'oss-policy-guard',
  defaultMode: 'alert',
  readActions: ['oss:GetBucketTagging'],
  evaluate: (s) =>
    s.tagging?.exceptionTag === undefined
      ? undefined
      : {
          ruleId: 'exception-tag-set',
          severity: 'high',
          message: `bucket ${s.bucket} now carries the exception tag ${s.tagging.tagKey} = ${s.tagging.exceptionTag}`,
          evidence: { tagKey: s.tagging.tagKey, value: s.tagging.exceptionTag },
        },
};
