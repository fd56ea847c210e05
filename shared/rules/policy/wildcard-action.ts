import { actionsIn, categoriesOf, DATA_OPERATIONS, isBroadWildcard } from '../../policy/actions';
import { grantsOutside, list, rewrite, unique } from '../../policy/statement';
import type { Severity } from '../../severity';
import { policyRule } from './rule';

export const wildcardAction = policyRule({
  id: 'wildcard-action',
  order: 30,
  title: 'Bucket policy grants wildcard actions',
  rationale:
    'Wildcards such as oss:* quietly include bucket administration (PutBucketPolicy, PutBucketAcl, ' +
    'DeleteBucket): a grantee who can rewrite the policy can grant itself, or anyone, everything.',
  docUrl: 'https://www.alibabacloud.com/help/en/oss/developer-reference/ram-policy-editor',
  severity: 'medium',
  firesWhen: 'an action wildcard reaches bucket administration or mixes reads and writes',
  severityNote: 'medium (high outside the account, low for reads+writes)',
  check: (s, env) => {
    if (s.effect !== 'Allow') return undefined;
    const broad = s.actions.filter(isBroadWildcard);
    if (broad.length === 0) return undefined;
    const admin = broad.some((a) => categoriesOf(a).has('bucket-admin'));
    const severity: Severity = admin ? (grantsOutside(s, env) ? 'high' : 'medium') : 'low';
    const narrowed = unique(
      s.actions.flatMap((a) => (broad.includes(a) ? actionsIn(a, DATA_OPERATIONS) : [a])),
    );
    return {
      severity,
      message: admin
        ? `${list(broad)} also grants bucket administration (PutBucketPolicy, PutBucketAcl, DeleteBucket, …): the grantee can rewrite who has access`
        : `${list(broad)} mixes reads and writes or object and bucket-configuration operations`,
      fix:
        narrowed.length > 0
          ? `list only the operations the grantee calls, e.g. ${rewrite(s, { Action: narrowed })}`
          : 'list the bucket operations the grantee calls explicitly, e.g. "oss:GetBucketInfo"',
    };
  },
});
