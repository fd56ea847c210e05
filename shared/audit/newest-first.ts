/**
 * Keys that list newest first: ListObjects lists in key order, so a key starting with the time inverted against
 * a ceiling (larger than any epoch millisecond until the year 2286, so every inverted time keeps 13 digits) puts
 * the newest object first. Remediation marks, deferred work and policy snapshots are named this way.
 */
const TIME_CEILING = 9_999_999_999_999;
const DIGITS = 13;

/** `<prefix><inverted ms>`: the start of a key that lists before every older one under `prefix`. */
export const newestFirstKey = (prefix: string, ms: number): string =>
  `${prefix}${String(TIME_CEILING - ms).padStart(DIGITS, '0')}`;

/** The time in ms a key made by `newestFirstKey(prefix, …)` was named for. */
export const timeOfNewestFirstKey = (key: string, prefix: string): number =>
  TIME_CEILING - Number(key.slice(prefix.length, prefix.length + DIGITS));

/** How far the clocks of two function instances may differ: a time further ahead was not written by ossguard. */
export const CLOCK_SKEW_MS = 60_000;
