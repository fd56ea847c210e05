import type { Rule } from '../types';
import type { AclSubject } from './subject';

export const accountBpaDisabled: Rule<AclSubject> = {
  id: 'account-bpa-disabled',
  title: 'Block Public Access was switched off for the account',
  rationale:
    'Account-level Block Public Access overrides every bucket in the account. Turning it off removes the ' +
    'one switch that kept all public ACLs and policies in the account from taking effect.',
  docUrl: 'https://www.alibabacloud.com/help/en/oss/user-guide/block-public-access',
  severity: 'critical',
  firesWhen: 'Block Public Access was switched off for the account',
  guard: 'oss-acl-guard',
  events: ['PutPublicAccessBlock', 'DeletePublicAccessBlock'],
  order: 50,
  defaultMode: 'enforce',
  readActions: ['oss:GetPublicAccessBlock'],
  remediation: {
    id: 'enable-account-bpa',
    description: 'switch account-level Block Public Access back on',
    actions: ['oss:PutPublicAccessBlock'],
  },
  evaluate: (subject) =>
    subject.kind === 'account-bpa' && !subject.blockPublicAccess
      ? {
          ruleId: 'account-bpa-disabled',
          severity: 'critical',
          message: 'Block Public Access is off for the whole account',
          evidence: { blockPublicAccess: false },
        }
      : undefined,
};
