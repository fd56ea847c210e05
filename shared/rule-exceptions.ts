import { wildcardMatches } from './wildcard';

/**
 * Exceptions: resources a user decided may stay as they are. A config entry (name glob) or a tag on the
 * resource (`ossguard-exception: until=2027-01-31;reason=public website`) grants one. Expired or malformed
 * exceptions are not silently honoured and not silently dropped: the decision reports them.
 */
export interface AppliedException {
  source: 'config' | 'tag';
  /** The glob (config) or tag key (tag) that matched. */
  match: string;
  reason: string;
  until?: string;
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

const DATE = /^\d{4}-\d{2}-\d{2}$/;

export function parseExceptionTag(value: string): { until: string; reason: string } | { error: string } {
  const fields = new Map<string, string>();
  for (const part of value.split(';')) {
    const at = part.indexOf('=');
    if (at <= 0) return { error: `"${part.trim()}" is not key=value` };
    fields.set(part.slice(0, at).trim().toLowerCase(), part.slice(at + 1).trim());
  }
  const until = fields.get('until');
  const reason = fields.get('reason');
  if (!until) return { error: 'until=YYYY-MM-DD is missing (tag exceptions must expire)' };
  if (!DATE.test(until) || Number.isNaN(Date.parse(`${until}T00:00:00Z`))) {
    return { error: `until=${until} is not a date written YYYY-MM-DD` };
  }
  if (!reason) return { error: 'reason=… is missing' };
  return { until, reason };
}

export interface ExceptionRule {
  pattern: string;
  reason: string;
  until?: string;
}

/** Config globs first (the owner's standing decisions), then the resource's own tag. */
export function evaluateExceptions(
  name: string,
  configured: readonly ExceptionRule[],
  tags: Readonly<Record<string, string>>,
  tagKey: string,
  now: Date,
): ExceptionOutcome {
  const ignored: IgnoredException[] = [];
  for (const rule of configured) {
    if (!wildcardMatches(rule.pattern, name)) continue;
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
      },
      ignored,
    };
  }
  const tag = tags[tagKey];
  if (tag !== undefined) {
    const parsed = parseExceptionTag(tag);
    if ('error' in parsed) ignored.push({ source: 'tag', match: tagKey, why: `malformed: ${parsed.error}` });
    else if (expired(parsed.until, now))
      ignored.push({ source: 'tag', match: tagKey, why: `expired on ${parsed.until}` });
    else
      return {
        applied: { source: 'tag', match: tagKey, reason: parsed.reason, until: parsed.until },
        ignored,
      };
  }
  return { ignored };
}
