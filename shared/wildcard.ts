/**
 * The one wildcard matcher: RAM and OSS policy patterns (actions, resources, `StringLike` values), exception
 * globs over bucket names and `audit --bucket` filters. `*` is any run of characters (also empty), `?`
 * exactly one; both cross `/` and line breaks (object keys may hold them, and RAM's `*` matches them too);
 * every other character is literal.
 *
 * Not picomatch: its `*` and `?` stop at `/` and at line breaks, `\` escapes, and `[…]`, `{…}`, `!…` and
 * extglobs carry meaning — six options to undo path semantics and it still compiles to a backtracking
 * regex. A policy is attacker-influenced input: iterative matching with one backtrack point keeps this
 * O(pattern × text), where a regex built from `*a*a*a…` backtracks exponentially.
 */
export function wildcardMatches(
  pattern: string,
  text: string,
  options: { ignoreCase?: boolean } = {},
): boolean {
  const p = options.ignoreCase ? pattern.toLowerCase() : pattern;
  const t = options.ignoreCase ? text.toLowerCase() : text;
  let pi = 0;
  let ti = 0;
  let star = -1;
  let resume = 0;
  while (ti < t.length) {
    if (pi < p.length && (p[pi] === '?' || (p[pi] === t[ti] && p[pi] !== '*'))) {
      pi++;
      ti++;
    } else if (pi < p.length && p[pi] === '*') {
      star = pi++;
      resume = ti;
    } else if (star >= 0) {
      pi = star + 1;
      ti = ++resume;
    } else return false;
  }
  while (p[pi] === '*') pi++;
  return pi === p.length;
}

export const hasWildcard = (text: string): boolean => /[*?]/.test(text);
