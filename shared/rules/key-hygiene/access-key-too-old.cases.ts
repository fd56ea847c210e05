import type { RuleCases } from '../types';
import { accessKeyTooOld } from './access-key-too-old';
import type { StaleKeySubject } from './subject';
import { freshKey, keyWith } from './subject.cases';

export const cases: RuleCases<StaleKeySubject> = {
  rule: accessKeyTooOld,
  fires: [
    { name: 'a key of exactly the configured age', subject: keyWith({ ageDays: 90 }) },
    { name: 'a two-year-old key in daily use', subject: keyWith({ ageDays: 730 }) },
  ],
  silent: [
    { name: 'a month-old key', subject: freshKey },
    { name: 'an old key under a longer configured age', subject: keyWith({ ageDays: 200, maxAgeDays: 365 }) },
  ],
};
