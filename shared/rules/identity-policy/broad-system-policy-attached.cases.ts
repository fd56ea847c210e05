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
    {
      name: 'AliyunOSSFullAccess attached to a group (every member holds it)',
      subject: {
        policyName: 'AliyunOSSFullAccess',
        policyType: 'System',
        attachedTo: { kind: 'Group', name: 'devs' },
      },
    },
    {
      name: 'AliyunOSSFullAccess attached to a role (every session holds it)',
      subject: {
        policyName: 'AliyunOSSFullAccess',
        policyType: 'System',
        attachedTo: { kind: 'Role', name: 'app' },
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
      name: 'a custom policy of the same name',
      subject: {
        policyName: 'AliyunOSSFullAccess',
        policyType: 'Custom',
        attachedTo: { kind: 'User', name: 'alice' },
      },
    },
  ],
};
