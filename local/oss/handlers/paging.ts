import { ERR, OssError } from '../errors';
import { type OssRequest, param } from '../request';

/** OSS lists in UTF-8 byte order of the names. */
export const byteOrder = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** `max-keys`: 100 by default, at most 1000 (F-OSS-LISTING). */
export function maxKeys(request: OssRequest): number {
  const raw = param(request, 'max-keys');
  if (raw === undefined || raw === '') return 100;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < 1 || value > 1000) {
    throw new OssError(ERR.InvalidArgument, {
      message: 'Argument max-keys must be an integer between 1 and 1000.',
      details: { ArgumentName: 'max-keys', ArgumentValue: raw },
    });
  }
  return value;
}

export interface PageQuery {
  prefix: string;
  /** Only names after this one (marker, start-after, continuation token). */
  after: string;
  /** Names sharing the prefix up to the next delimiter collapse into one common prefix. */
  delimiter: string;
  maxKeys: number;
}

export interface Page {
  /** Names and common prefixes in listing order; both count against max-keys. */
  entries: Array<{ name: string; commonPrefix: boolean }>;
  truncated: boolean;
  /** The last entry returned, where the next page starts, when truncated. */
  next?: string;
}

export function page(sortedNames: readonly string[], query: PageQuery): Page {
  const entries: Page['entries'] = [];
  for (const name of sortedNames) {
    if (!name.startsWith(query.prefix) || byteOrder(name, query.after) <= 0) continue;
    const cut = query.delimiter ? name.indexOf(query.delimiter, query.prefix.length) : -1;
    const entry =
      cut < 0
        ? { name, commonPrefix: false }
        : { name: name.slice(0, cut + query.delimiter.length), commonPrefix: true };
    // A marker that is itself a common prefix skips the whole group behind it.
    if (entry.name === query.after || entries.at(-1)?.name === entry.name) continue;
    if (entries.length === query.maxKeys) return { entries, truncated: true, next: entries.at(-1)?.name };
    entries.push(entry);
  }
  return { entries, truncated: false };
}
