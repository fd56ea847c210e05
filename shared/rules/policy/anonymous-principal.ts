import { INTERNET_PIN, json, rewrite, scope, statementIsPublic, VPC_PIN } from '../../policy/statement';
import { policyRule } from './rule';

/** Principal `*` reaches anonymous callers (F-OSS-POLICY-PRINCIPAL-STAR). */
export const anonymousPrincipal = policyRule({
  id: 'anonymous-principal',
  order: 10,
  title: 'Bucket policy grants access to anyone',
  rationale:
    'A statement that allows Principal "*" without pinning the VPC, the AccessKey or a source network lets ' +
    'anonymous internet callers in; OSS Block Public Access counts such a policy as public.',
  docUrl: 'https://www.alibabacloud.com/help/en/oss/user-guide/block-public-access',
  severity: 'high',
  firesWhen: 'Allow to `*` that no fixed VPC, AccessKey or source network pins: OSS calls it public',
  check: (s) => {
    if (!statementIsPublic(s)) return undefined;
    return {
      severity: 'high',
      message:
        `anyone, including anonymous callers without credentials, may call ${scope(s)}: Principal is "*" ` +
        'and no condition fixes the VPC, the AccessKey or a source network of /8 or narrower',
      fix:
        `name the callers: ${rewrite(s, { Principal: ['<UID>'] })}; or, if the data is meant to be public ` +
        `to one network, add to Condition ${json(VPC_PIN)} (VPC) or ${json(INTERNET_PIN)} (internet addresses)`,
    };
  },
});
