import { parseResourceArn } from '../../policy/parse-bucket-policy';
import { bucketArn, list, rewrite, unique } from '../../policy/statement';
import { hasWildcard } from '../../wildcard';
import { policyRule } from './rule';

/** Every object of the bucket: "*", "*\/*", "acs:oss:*:*:*", "…:bucket/*" or a bucket-name wildcard. */
function coversWholeBucket(resource: string): boolean {
  if (/^\*+(\/\*+)?$/.test(resource)) return true;
  const arn = parseResourceArn(resource);
  if (!arn) return false;
  return arn.object === undefined ? arn.bucket.endsWith('*') : /^\*+$/.test(arn.object);
}

export const wholeBucketResource = policyRule({
  id: 'whole-bucket-resource',
  order: 40,
  title: 'Bucket policy covers every object',
  rationale:
    'A grant on bucket/* reaches every object, present and future. Alibaba Cloud advises granting ' +
    'permissions only on the specific paths required.',
  docUrl: 'https://www.alibabacloud.com/help/en/oss/user-guide/oss-bucket-policy/',
  severity: 'low',
  firesWhen: 'the grant covers every object where a prefix would do',
  check: (s, { ctx }) => {
    if (s.effect !== 'Allow') return undefined;
    const whole = s.resources.filter(coversWholeBucket);
    if (whole.length === 0) return undefined;
    const prefixOf = (r: string): string => {
      const arn = parseResourceArn(r);
      const bucket =
        arn && !hasWildcard(arn.bucket) ? `acs:oss:*:${arn.owner}:${arn.bucket}` : bucketArn(ctx);
      return `${bucket}/<prefix>/*`;
    };
    const narrowed = unique(s.resources.map((r) => (whole.includes(r) ? prefixOf(r) : r)));
    return {
      severity: 'low',
      message: `${list(whole)} grants ${list(s.actions) || 'the actions'} on every object; Alibaba Cloud advises granting only the paths required`,
      fix: `limit it to the prefix the grantee needs: ${rewrite(s, { Resource: narrowed })}`,
    };
  },
});
