import type { RuleCases } from '../types';
import { policyDenyRemoved } from './policy-deny-removed';
import type { PolicyChangeSubject } from './subject';

const deny =
  '{"Action":["oss:GetObject"],"Effect":"Deny","Principal":["*"],"Resource":["acs:oss:*:1:b/private/*"]}';

export const cases: RuleCases<PolicyChangeSubject> = {
  rule: policyDenyRemoved,
  fires: [
    { name: 'the policy was deleted', subject: { bucket: 'b', policy: null, droppedDenies: [deny] } },
    { name: 'an update dropped the Deny', subject: { bucket: 'b', policy: '{}', droppedDenies: [deny] } },
  ],
  silent: [{ name: 'every Deny is still there', subject: { bucket: 'b', policy: '{}', droppedDenies: [] } }],
};
