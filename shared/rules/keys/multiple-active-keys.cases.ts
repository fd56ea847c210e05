import type { RuleCases } from '../types';
import { multipleActiveKeys } from './multiple-active-keys';
import type { KeySubject } from './subject';
import { compliantKey, keyWith } from './subject.cases';

export const cases: RuleCases<KeySubject> = {
  rule: multipleActiveKeys,
  fires: [{ name: 'the owner now holds two active keys', subject: keyWith({ activeKeys: 2 }) }],
  silent: [{ name: 'the owner’s only active key', subject: compliantKey }],
};
