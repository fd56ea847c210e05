import { findRule } from './rules';
import { wildcardMatches } from './wildcard';

/**
 * Exceptions: resources a user decided may stay as they are. A config entry (name glob) or a tag on the
 * resource (`ossguard-exception: until=2027-01-31;reason=public website;rules=anonymous-principal`) grants
 * one. A tag must name the rules it waives (a guard's name, `rules=oss-acl-guard`, names all of that guard's
 * rules: a tag value holds at most 128 bytes, F-OSS-BUCKET-TAGGING-PERMISSIONS) and expire within
 * `exceptions.maxLifetimeDays`; no exception
 * waives a rule about someone other than its subject (see narrowException). Expired, malformed or too broad
 * exceptions are not silently honoured and not silently dropped: the decision reports them.
 */
export interface AppliedException {
  source: 'config' | 'tag';
  /** The glob (config) or tag key (tag) that matched. */
  match: string;
  reason: string;
  until?: string;
  /** The rules it waives; absent (config entries only) means every rule about the subject. */
  rules?: string[];
  /** The accounts it is scoped to; absent means every account ossguard guards. */
  accounts?: string[];
}

export interface IgnoredException {
  source: 'config' | 'tag';
  match: string;
  why: string;
}

export interface ExceptionOutcome {
  applied?: AppliedException;
  ignored: IgnoredException[];
}

/** An exception holds through the whole of its `until` day, in UTC. */
const expired = (until: string, now: Date): boolean => now.getTime() > Date.parse(`${until}T23:59:59.999Z`);

/** `YYYY-MM-DD` naming a day that exists: 2099-02-31 does not, where Date.parse would roll it over. */
export function isCalendarDate(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  const date = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(text);
}

const DAY_MS = 86_400_000;

export interface ExceptionSettings {
  tagKey: string;
  /** A tag's `until` may lie at most this many days ahead. */
  maxLifetimeDays: number;
}

export function parseExceptionTag(
  value: string,
): { until: string; reason: string; rules: string[]; accounts?: string[] } | { error: string } {
  const fields = new Map<string, string>();
  for (const part of value.split(';')) {
    const at = part.indexOf('=');
    if (at <= 0) return { error: `"${part.trim()}" is not key=value` };
    fields.set(part.slice(0, at).trim().toLowerCase(), part.slice(at + 1).trim());
  }
  const until = fields.get('until');
  const reason = fields.get('reason');
  if (!until) return { error: 'until=YYYY-MM-DD is missing (tag exceptions must expire)' };
  if (!isCalendarDate(until)) return { error: `until=${until} is not a real date written YYYY-MM-DD` };
  if (!reason) return { error: 'reason=… is missing' };
  const rules = listOf(fields.get('rules'));
  if (rules.length === 0) return { error: 'rules=<rule id>,… is missing (a tag names the rules it waives)' };
  const accounts = fields.has('accounts') ? listOf(fields.get('accounts')) : undefined;
  if (accounts && (accounts.length === 0 || accounts.some((id) => !ACCOUNT_ID.test(id))))
    return { error: 'accounts= must list account ids (digits), separated by ,' };
  return { until, reason, rules, ...(accounts ? { accounts } : {}) };
}

const listOf = (text: string | undefined): string[] =>
  (text ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);

/** An account id as the config takes it (shared/config/schema.ts `accountId`, F-ORG-ACCOUNT-ID). */
const ACCOUNT_ID = /^\d{5,20}$/;

/**
 * Whether an exception scoped to `accounts` covers a subject in `accountId`: an exception for account B never
 * waives account C, nor a subject whose account the change does not name.
 */
const coversAccount = (accounts: readonly string[] | undefined, accountId: string | undefined): boolean =>
  accounts === undefined || (accountId !== undefined && accounts.includes(accountId));

export interface ExceptionRule {
  pattern: string;
  reason: string;
  until?: string;
  rules?: readonly string[];
  accounts?: readonly string[];
}

/**
 * Config globs first (the owner's standing decisions), then the resource's own tag. `accountId`: the account
 * the subject lives in (the change's member account), which an exception scoped to accounts must name.
 */
export function evaluateExceptions(
  name: string,
  configured: readonly ExceptionRule[],
  tags: Readonly<Record<string, string>>,
  { tagKey, maxLifetimeDays }: ExceptionSettings,
  now: Date,
  accountId: string | undefined,
): ExceptionOutcome {
  const ignored: IgnoredException[] = [];
  for (const rule of configured) {
    if (!wildcardMatches(rule.pattern, name) || !coversAccount(rule.accounts, accountId)) continue;
    if (rule.until && expired(rule.until, now)) {
      ignored.push({ source: 'config', match: rule.pattern, why: `expired on ${rule.until}` });
      continue;
    }
    return {
      applied: {
        source: 'config',
        match: rule.pattern,
        reason: rule.reason,
        ...(rule.until ? { until: rule.until } : {}),
        ...(rule.rules ? { rules: [...rule.rules] } : {}),
        ...(rule.accounts ? { accounts: [...rule.accounts] } : {}),
      },
      ignored,
    };
  }
  const tag = tags[tagKey];
  if (tag !== undefined) {
    const parsed = parseExceptionTag(tag);
    if ('error' in parsed) ignored.push({ source: 'tag', match: tagKey, why: `malformed: ${parsed.error}` });
    else if (!coversAccount(parsed.accounts, accountId))
      // A tag copied from a resource of another account (or naming the wrong one) waives nothing here.
      ignored.push({
        source: 'tag',
        match: tagKey,
        why: `scoped to account(s) ${parsed.accounts?.join(', ')}, not ${accountId ?? 'this unnamed account'}`,
      });
    else if (expired(parsed.until, now))
      ignored.push({ source: 'tag', match: tagKey, why: `expired on ${parsed.until}` });
    else if (Date.parse(`${parsed.until}T00:00:00Z`) - now.getTime() > maxLifetimeDays * DAY_MS)
      // Whoever may tag the resource may grant the exception: a bounded lifetime makes them renew it.
      ignored.push({
        source: 'tag',
        match: tagKey,
        why: `until=${parsed.until} is more than ${maxLifetimeDays} days away (exceptions.maxLifetimeDays)`,
      });
    else
      return {
        applied: {
          source: 'tag',
          match: tagKey,
          reason: parsed.reason,
          until: parsed.until,
          rules: parsed.rules,
          ...(parsed.accounts ? { accounts: parsed.accounts } : {}),
        },
        ignored,
      };
  }
  return { ignored };
}

/**
 * The exception only when it waives every rule that fired: those it names (all, when it names none), and
 * never one in `aboutOthers`, the rules about someone other than the exception's subject (a key's creator is
 * not the key's owner). Otherwise it is reported as ignored, and the findings are judged as if it were not there.
 */
export function narrowException(
  outcome: ExceptionOutcome,
  firedRules: readonly string[],
  aboutOthers: ReadonlySet<string> = new Set(),
): ExceptionOutcome {
  const { applied } = outcome;
  if (!applied) return outcome;
  const named = (rule: string): boolean =>
    applied.rules === undefined ||
    applied.rules.includes(rule) ||
    applied.rules.includes(findRule(rule)?.guard ?? rule);
  const unwaived = firedRules.filter((rule) => aboutOthers.has(rule) || !named(rule));
  if (unwaived.length === 0) return outcome;
  const others = unwaived.filter((rule) => aboutOthers.has(rule));
  const why =
    others.length > 0
      ? `does not waive ${[...new Set(others)].join(', ')}: about someone other than its subject`
      : `does not name ${[...new Set(unwaived)].join(', ')}`;
  return { ignored: [...outcome.ignored, { source: applied.source, match: applied.match, why }] };
}
