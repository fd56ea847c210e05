/**
 * An active AccessKey of a RAM user, as the sweep finds it: its age and how long it has gone unused, in whole
 * days (the sweep reads ListAccessKeys and GetAccessKeyLastUsed and does the date arithmetic), with the limits
 * from the config, so the rules stay pure.
 */
export interface StaleKeySubject {
  userName: string;
  accessKeyId: string;
  createDate: string;
  /** GetAccessKeyLastUsed's date; absent when RAM answers none (never used, F-RAM-GETACCESSKEYLASTUSED). */
  lastUsedDate?: string;
  ageDays: number;
  /** Days since the last use, or since creation for a key never used. */
  idleDays: number;
  maxAgeDays: number;
  unusedDays: number;
}

export const STALE_KEY_RULE_BASE = { guard: 'key-hygiene-guard', defaultMode: 'alert' } as const;

export const staleKeyEvidence = (s: StaleKeySubject) => ({
  user: s.userName,
  accessKeyId: s.accessKeyId,
  ageDays: s.ageDays,
  lastUsed: s.lastUsedDate ?? null,
});
