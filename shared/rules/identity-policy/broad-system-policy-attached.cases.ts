import { broadSystemPolicyAttached } from './broad-system-policy-attached';
import { systemPolicyCases } from './subject.cases';

export const cases = systemPolicyCases(broadSystemPolicyAttached, {
  policy: 'AliyunOSSFullAccess',
  narrower: 'AliyunOSSReadOnlyAccess',
  notes: { Group: '(every member holds it)', Role: '(every session holds it)' },
});
