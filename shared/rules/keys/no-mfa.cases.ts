import type { RuleCases } from '../types';
import { noMfa } from './no-mfa';
import type { KeySubject } from './subject';
import { compliantKey, keyWith } from './subject.cases';

export const cases: RuleCases<KeySubject> = {
  rule: noMfa,
  fires: [
    {
      name: 'a session without MFA',
      subject: keyWith({ creator: { type: 'ram-user', userName: 'alice', mfaAuthenticated: false } }),
    },
    {
      name: 'a session whose record does not say',
      subject: keyWith({ creator: { type: 'ram-user', userName: 'alice' } }),
    },
  ],
  silent: [
    { name: 'an MFA session', subject: compliantKey },
    { name: 'a service acting for the account', subject: keyWith({ creator: { type: 'system' } }) },
  ],
};
