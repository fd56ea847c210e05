import type { RuleCases } from '../types';
import { accessKeyUnused } from './access-key-unused';
import type { StaleKeySubject } from './subject';
import { freshKey, keyWith } from './subject.cases';

export const cases: RuleCases<StaleKeySubject> = {
  rule: accessKeyUnused,
  fires: [
    { name: 'a key last used 100 days ago', subject: keyWith({ ageDays: 400, idleDays: 100 }) },
    {
      name: 'a key never used, 90 days old',
      subject: keyWith({ ageDays: 90, idleDays: 90, lastUsedDate: undefined }),
    },
  ],
  silent: [
    { name: 'a key used yesterday', subject: freshKey },
    {
      name: 'a new key not used yet',
      subject: keyWith({ ageDays: 3, idleDays: 3, lastUsedDate: undefined }),
    },
  ],
};
