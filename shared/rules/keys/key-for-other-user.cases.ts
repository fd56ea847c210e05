import type { RuleCases } from '../types';
import { keyForOtherUser } from './key-for-other-user';
import type { KeySubject } from './subject';
import { compliantKey, keyWith } from './subject.cases';

export const cases: RuleCases<KeySubject> = {
  rule: keyForOtherUser,
  fires: [
    {
      name: 'bob creates a key for alice',
      subject: keyWith({
        creator: { type: 'ram-user', userName: 'bob', mfaAuthenticated: true, sourceIp: '203.0.113.7' },
      }),
    },
    {
      name: 'a role creates a key for alice',
      subject: keyWith({
        creator: { type: 'assumed-role', userName: 'admin:session', mfaAuthenticated: true },
      }),
    },
  ],
  silent: [
    { name: 'alice creates her own key', subject: compliantKey },
    {
      name: 'a key of the account itself (its own rule)',
      subject: keyWith({ isRootKey: true, owner: undefined }),
    },
  ],
};
