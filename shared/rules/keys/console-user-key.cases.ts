import type { RuleCases } from '../types';
import { consoleUserKey } from './console-user-key';
import type { KeySubject } from './subject';
import { compliantKey, keyWith } from './subject.cases';

export const cases: RuleCases<KeySubject> = {
  rule: consoleUserKey,
  fires: [{ name: 'the owner can also sign in to the console', subject: keyWith({ consoleLogin: true }) }],
  silent: [
    { name: 'a programmatic user', subject: compliantKey },
    {
      name: 'a key of the account itself',
      subject: keyWith({ isRootKey: true, owner: undefined, consoleLogin: true }),
    },
  ],
};
