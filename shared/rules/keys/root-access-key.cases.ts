import type { RuleCases } from '../types';
import { rootAccessKey } from './root-access-key';
import type { KeySubject } from './subject';
import { compliantKey, keyWith } from './subject.cases';

export const cases: RuleCases<KeySubject> = {
  rule: rootAccessKey,
  fires: [
    {
      name: 'a key of the account itself',
      subject: keyWith({
        isRootKey: true,
        owner: undefined,
        creator: { type: 'root-account', mfaAuthenticated: true },
      }),
    },
  ],
  silent: [{ name: 'a RAM user’s key', subject: compliantKey }],
};
