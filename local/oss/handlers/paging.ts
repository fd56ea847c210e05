import { ERR, OssError } from '../errors';
import { type OssRequest, param } from '../request';

/**
 * OSS lists in UTF-8 byte order of the names, which is the order of their code points: compared as such, so a
 * comparison allocates nothing (names come from decoded UTF-8, so they hold no lone surrogate).
 */
export function byteOrder(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a.charCodeAt(i) !== b.charCodeAt(i))
      return (a.codePointAt(i) as number) - (b.codePointAt(i) as number);
  }
  return a.length - b.length;
}

/** The index of the first of `sorted` (in byte order) that comes after `name`, or equals it when `inclusive`. */
function firstAfter(sorted: readonly string[], name: string, inclusive: boolean): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    const order = byteOrder(sorted[mid] as string, name);
    if (order > 0 || (inclusive && order === 0)) high = mid;
    else low = mid + 1;
  }
  return low;
}

/**
 * A bucket's objects by name, with the names kept in byte order as they are added and removed: a listing
 * starts at its prefix or marker instead of sorting and scanning every name of the bucket.
 */
export class ObjectMap<V> extends Map<string, V> {
  readonly #sorted: string[] = [];

  override set(name: string, value: V): this {
    if (!this.has(name)) this.#sorted.splice(firstAfter(this.#sorted, name, false), 0, name);
    return super.set(name, value);
  }

  override delete(name: string): boolean {
    if (!super.delete(name)) return false;
    this.#sorted.splice(firstAfter(this.#sorted, name, true), 1);
    return true;
  }

  override clear(): void {
    this.#sorted.length = 0;
    super.clear();
  }

  sortedNames(): readonly string[] {
    return this.#sorted;
  }
}

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
  // The names under the prefix are one run of the sorted names: start at its first after the marker.
  const from = Math.max(
    firstAfter(sortedNames, query.prefix, true),
    firstAfter(sortedNames, query.after, false),
  );
  for (let i = from; i < sortedNames.length; i++) {
    const name = sortedNames[i] as string;
    if (!name.startsWith(query.prefix)) break;
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
