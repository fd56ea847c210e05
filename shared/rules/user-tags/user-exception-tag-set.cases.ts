import type { RuleCases } from '../types';
import type { UserTagSubject } from './subject';
import { userExceptionTagSet } from './user-exception-tag-set';

const TAG = 'until=2027-01-31;reason=ci;rules=untrusted-source';
const subject = (users: UserTagSubject['users']): UserTagSubject => ({ tagKey: 'ossguard-exception', users });

export const cases: RuleCases<UserTagSubject> = {
  rule: userExceptionTagSet,
  fires: [
    {
      name: 'an administrator tagged a user with an exception',
      subject: subject([{ userName: 'ci', exceptionTag: TAG, selfGranted: false }]),
    },
    {
      name: 'a user tagged itself with an exception',
      subject: subject([{ userName: 'mallory', exceptionTag: TAG, selfGranted: true }]),
    },
    {
      name: 'one of several tagged users carries the exception tag',
      subject: subject([
        { userName: 'a', selfGranted: false },
        { userName: 'b', exceptionTag: TAG, selfGranted: false },
      ]),
    },
  ],
  silent: [
    {
      name: 'a tagging call that leaves no exception tag',
      subject: subject([{ userName: 'ci', selfGranted: true }]),
    },
  ],
};
