import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { byteOrder, ObjectMap, type Page, type PageQuery, page } from '../../local/oss/handlers/paging';

/** What the emulator did before keeping names sorted: compare the UTF-8 bytes, sort and scan every name. */
const bytes = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** The emulator's paging before it started from the prefix and marker: a scan of every name. */
function scan(sortedNames: readonly string[], query: PageQuery): Page {
  const entries: Page['entries'] = [];
  for (const name of sortedNames) {
    if (!name.startsWith(query.prefix) || bytes(name, query.after) <= 0) continue;
    const cut = query.delimiter ? name.indexOf(query.delimiter, query.prefix.length) : -1;
    const entry =
      cut < 0
        ? { name, commonPrefix: false }
        : { name: name.slice(0, cut + query.delimiter.length), commonPrefix: true };
    if (entry.name === query.after || entries.at(-1)?.name === entry.name) continue;
    if (entries.length === query.maxKeys) return { entries, truncated: true, next: entries.at(-1)?.name };
    entries.push(entry);
  }
  return { entries, truncated: false };
}

const name = fc.string({
  unit: fc.constantFrom('a', 'b', '/', 'é', '\u{1F600}', '\uE000', 'z'),
  maxLength: 6,
});

describe('the local OSS listing order', () => {
  it('compares names in the order of their UTF-8 bytes, astral characters and private-use ones included', () => {
    fc.assert(
      fc.property(name, name, (a, b) => {
        expect(Math.sign(byteOrder(a, b))).toBe(Math.sign(bytes(a, b)));
      }),
    );
  });

  it('keeps a bucket object map’s names sorted through any sequence of puts and deletes', () => {
    const op = fc.record({ put: fc.boolean(), name });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const map = new ObjectMap<number>();
        for (const { put, name: n } of ops) put ? map.set(n, 1) : map.delete(n);
        expect(map.sortedNames()).toEqual([...map.keys()].sort(bytes));
      }),
    );
  });

  it('pages from the prefix and marker exactly as a scan of every name does', () => {
    const query = fc.record({
      prefix: name,
      after: name,
      delimiter: fc.constantFrom('', '/'),
      maxKeys: fc.integer({ min: 1, max: 5 }),
    });
    fc.assert(
      fc.property(fc.uniqueArray(name, { maxLength: 40 }), query, (names, q) => {
        const sorted = [...names].sort(bytes);
        expect(page(sorted, q)).toEqual(scan(sorted, q));
      }),
    );
  });
});
