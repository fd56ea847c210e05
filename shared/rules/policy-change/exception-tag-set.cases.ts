import type { RuleCases } from '../types';
import { exceptionTagSet } from './exception-tag-set';
import type { PolicyChangeSubject } from './subject';

const base: PolicyChangeSubject = { bucket: 'b', policy: null, droppedDenies: [] };

export const cases: RuleCases<PolicyChangeSubject> = {
  rule: exceptionTagSet,
  fires: [
    {
      name: 'a tagging call left the exception tag on the bucket',
      subject: {
        ...base,
        tagging: { tagKey: 'ossguard-exception', exceptionTag: 'until=2027-01-31;reason=x' },
      },
    },
  ],
  silent: [
    {
      name: 'a tagging call without the exception tag',
      subject: { ...base, tagging: { tagKey: 'ossguard-exception' } },
    },
    { name: 'a policy change', subject: base },
  ],
};
