import { SLS_ERRORS, SlsError } from './errors';
import type { StoredGroup } from './store';

/** GetLogs returns at most 100 logs a call (F-SLS-GETLOGS). */
const MAX_LINES = 100;

/**
 * The only search form ossguard sends: one `field: value` term (F-SLS-GETLOGS). Anything else (`*`, `and`,
 * SQL after `|`) is refused rather than half-understood, so a client that needs more is found out here.
 */
export function parseTerm(query: string): { field: string; value: string } {
  const match = /^([A-Za-z_][\w.]*)\s*:\s*(\S+)$/.exec(query.trim());
  if (!match?.[1] || !match[2])
    throw new SlsError(
      SLS_ERRORS.ParameterInvalid,
      `the local SLS searches one field: value term, not "${query}"`,
    );
  return { field: match[1], value: match[2] };
}

/**
 * A field's value in a stored trail log. The trail writes the record as JSON in `event`, and the logstore's
 * index makes its members searchable as `event.<path>` (F-SLS-TRAIL-ACCESSKEY-FIELD).
 */
function fieldValue(log: Readonly<Record<string, string>>, field: string): string | undefined {
  if (field in log) return log[field];
  const [root, ...path] = field.split('.');
  const text = root ? log[root] : undefined;
  if (text === undefined || path.length === 0) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  for (const name of path) value = (value as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
}

export interface LogSearch {
  from: number;
  to: number;
  query: string;
  line: number;
  offset: number;
  reverse: boolean;
}

/** GetLogs over a logstore's shards: logs with `from <= __time__ < to` matching the term, in time order, paged. */
export function searchLogs(
  shards: readonly StoredGroup[][],
  search: LogSearch,
): Array<Record<string, string>> {
  const { field, value } = parseTerm(search.query);
  if (!Number.isInteger(search.from) || !Number.isInteger(search.to) || search.from >= search.to)
    throw new SlsError(SLS_ERRORS.ParameterInvalid, 'from must be before to');
  if (!Number.isInteger(search.line) || search.line < 0 || search.line > MAX_LINES)
    throw new SlsError(SLS_ERRORS.ParameterInvalid, `line must be 0-${MAX_LINES}`);
  const found: Array<{ time: number; log: Record<string, string> }> = [];
  for (const groups of shards)
    for (const group of groups) {
      if (group.time < search.from || group.time >= search.to) continue;
      for (const log of group.logs)
        if (fieldValue(log, field) === value)
          found.push({
            time: group.time,
            log: { ...log, __time__: String(group.time), __topic__: group.topic, __source__: group.source },
          });
    }
  found.sort((a, b) => (search.reverse ? b.time - a.time : a.time - b.time));
  return found.slice(search.offset, search.offset + search.line).map((f) => f.log);
}
