import { adminPolicyAttached } from './admin-policy-attached';
import { systemPolicyCases } from './subject.cases';

export const cases = systemPolicyCases(adminPolicyAttached, {
  policy: 'AdministratorAccess',
  narrower: 'ReadOnlyAccess',
  notes: { Custom: '(judged by its document)' },
});
