import type { RuleCases } from '../types';
import { adminPolicyAttached } from './admin-policy-attached';

export const cases: RuleCases<Parameters<typeof adminPolicyAttached.evaluate>[0]> = {
  rule: adminPolicyAttached,
  fires: [
    {
      name: 'AdministratorAccess attached to a user',
      subject: {
        policyName: 'AdministratorAccess',
        policyType: 'System',
        attachedTo: { kind: 'User', name: 'alice' },
      },
    },
    {
      name: 'AdministratorAccess attached to a group',
      subject: {
        policyName: 'AdministratorAccess',
        policyType: 'System',
        attachedTo: { kind: 'Group', name: 'ops' },
      },
    },
    {
      name: 'AdministratorAccess attached to a role',
      subject: {
        policyName: 'AdministratorAccess',
        policyType: 'System',
        attachedTo: { kind: 'Role', name: 'ci' },
      },
    },
  ],
  silent: [
    {
      name: 'a custom policy of the same name (judged by its document)',
      subject: {
        policyName: 'AdministratorAccess',
        policyType: 'Custom',
        attachedTo: { kind: 'User', name: 'alice' },
      },
    },
    {
      name: 'ReadOnlyAccess attached to a user',
      subject: {
        policyName: 'ReadOnlyAccess',
        policyType: 'System',
        attachedTo: { kind: 'User', name: 'alice' },
      },
    },
  ],
};
