import { policyRule } from './rule';

export const noSourceRestriction = policyRule('no-source-restriction', {
  title: 'Outside grant without a network restriction',
  rationale:
    'Limiting callers outside the account to source addresses or VPCs means a leaked credential or a ' +
    'mistaken grant cannot be used from anywhere on the internet.',
  firesWhen: 'a grant outside the account has no `acs:SourceIp` / `acs:SourceVpc` limit',
});
