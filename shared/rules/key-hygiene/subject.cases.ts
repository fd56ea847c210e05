import type { StaleKeySubject } from './subject';

/** A key no stale-key rule objects to: a month old, used yesterday. */
export const freshKey: StaleKeySubject = {
  userName: 'alice',
  accessKeyId: 'LTAI5tCaseAliceKey01',
  createDate: '2026-11-06T00:00:00Z',
  lastUsedDate: '2026-12-05T00:00:00Z',
  ageDays: 30,
  idleDays: 1,
  maxAgeDays: 90,
  unusedDays: 90,
};

export const keyWith = (overrides: Partial<StaleKeySubject>): StaleKeySubject => ({
  ...freshKey,
  ...overrides,
});
