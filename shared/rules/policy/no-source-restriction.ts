import { pinsNetwork } from '../../policy/conditions';
import {
  foreignPrincipals,
  grantsAnyone,
  grantsOutside,
  INTERNET_PIN,
  json,
  list,
  rewrite,
  scope,
  VPC_PIN,
  withCondition,
} from '../../policy/statement';
import { policyRule } from './rule';

export const noSourceRestriction = policyRule({
  id: 'no-source-restriction',
  order: 60,
  title: 'Outside grant without a network restriction',
  rationale:
    'Limiting callers outside the account to source addresses or VPCs means a leaked credential or a ' +
    'mistaken grant cannot be used from anywhere on the internet.',
  docUrl: 'https://www.alibabacloud.com/help/en/cloud-config/latest/oss-bucket-authorize-specified-ip',
  severity: 'medium',
  firesWhen: 'a grant outside the account has no `acs:SourceIp` / `acs:SourceVpc` limit',
  check: (s, env) => {
    if (s.effect !== 'Allow' || !grantsOutside(s, env) || pinsNetwork(s.conditions)) return undefined;
    return {
      severity: 'medium',
      message: `${grantsAnyone(s) ? 'everyone' : list(foreignPrincipals(s, env))} outside the account may call ${scope(s)} from any network`,
      fix: `restrict the source: ${rewrite(s, { Condition: withCondition(s, VPC_PIN) })}; for internet callers use ${json(INTERNET_PIN)} instead`,
    };
  },
});
