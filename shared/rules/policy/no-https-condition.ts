import { requiresHttps } from '../../policy/conditions';
import type { NormalStatement } from '../../policy/parse-bucket-policy';
import { bucketArn, json, scope } from '../../policy/statement';
import { wildcardMatches } from '../../wildcard';
import { policyRule } from './rule';

const matchesAll = (patterns: readonly string[], values: readonly string[], ignoreCase: boolean): boolean =>
  values.every((v) => patterns.some((p) => wildcardMatches(p, v, { ignoreCase })));

/** A Deny covers an Allow when its principals, actions and resources include the Allow's. */
const covers = (deny: NormalStatement, allow: NormalStatement): boolean =>
  matchesAll(deny.principals, allow.principals, false) &&
  matchesAll(deny.actions, allow.actions, true) &&
  matchesAll(deny.resources, allow.resources, false);

export const noHttpsCondition = policyRule({
  id: 'no-https-condition',
  order: 50,
  title: 'Bucket policy allows plain HTTP',
  rationale:
    'Without acs:SecureTransport, requests and the data they carry can travel unencrypted and be read ' +
    'or altered in transit.',
  docUrl: 'https://www.alibabacloud.com/help/en/cloud-config/latest/oss-bucket-only-https-enabled',
  severity: 'medium',
  firesWhen: 'an Allow is usable over plain HTTP (no `acs:SecureTransport`, no Deny for HTTP)',
  check: (s, { ctx, httpsDenies }) => {
    if (s.effect !== 'Allow' || requiresHttps(s.conditions) || httpsDenies.some((d) => covers(d, s)))
      return undefined;
    const deny = {
      Effect: 'Deny',
      Principal: ['*'],
      Action: ['oss:*'],
      Resource: [bucketArn(ctx), `${bucketArn(ctx)}/*`],
      Condition: { Bool: { 'acs:SecureTransport': ['false'] } },
    };
    return {
      severity: 'medium',
      message: `${scope(s)} is allowed over plain HTTP, where requests and data can be read or altered in transit`,
      fix: `add this statement to the policy: ${json(deny)}; or add to this statement's Condition ${json({ Bool: { 'acs:SecureTransport': ['true'] } })}`,
    };
  },
});
