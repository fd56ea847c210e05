import type { RuleCases } from '../types';
import { broadSystemPolicyAttached } from './broad-system-policy-attached';

export const cases: RuleCases<Parameters<typeof broadSystemPolicyAttached.evaluate>[0]> = {
  rule: broadSystemPolicyAttached,
  fires: [
    {
      name: 'AliyunOSSFullAccess attached to a user',
      subject: {
        policyName: 'AliyunOSSFullAccess',
        policyType: 'System',
        attachedTo: { kind: 'User', name: 'alice' },
      },
    },
  ],
  silent: [
    {
      name: 'AliyunOSSReadOnlyAccess attached to a user',
      subject: {
        policyName: 'AliyunOSSReadOnlyAccess',
        policyType: 'System',
        attachedTo: { kind: 'User', name: 'alice' },
      },
    },
    {
      name: 'AliyunOSSFullAccess attached to a role (a role is not a key holder)',
      subject: {
        policyName: 'AliyunOSSFullAccess',
        policyType: 'System',
        attachedTo: { kind: 'Role', name: 'app' },
      },
    },
    {
      name: 'a custom policy of the same name',
      subject: {
        policyName: 'AliyunOSSFullAccess',
        policyType: 'Custom',
        attachedTo: { kind: 'User', name: 'alice' },
      },
    },
  ],
};
