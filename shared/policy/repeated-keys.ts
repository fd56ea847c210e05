/**
 * The keys a JSON text names twice in one object. JSON.parse keeps the last value of a repeated key, and no
 * reviver sees the earlier ones, while another reader (OSS's) may keep the first: such a policy has no single
 * reading to judge (F-OSS-POLICY-DUPLICATE-KEYS). A scan of the tokens, not a library: the text has passed
 * JSON.parse, so only strings and brackets need telling apart. Linear in the text.
 */
export function repeatedKeys(text: string): string[] {
  const repeated: string[] = [];
  /** Keys seen per open object; null for an open array. */
  const open: Array<Set<string> | null> = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '{' || c === '[') open.push(c === '{' ? new Set() : null);
    else if (c === '}' || c === ']') open.pop();
    else if (c === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      const keys = open.at(-1);
      let next = end + 1;
      while (next < text.length && ' \t\n\r'.includes(text[next] ?? '')) next++;
      // In an object, a string followed by `:` is a key; JSON.parse decodes its escapes (`\u0041` is `A`).
      if (keys && text[next] === ':') {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        if (keys.has(key) && !repeated.includes(key)) repeated.push(key);
        keys.add(key);
      }
      i = end;
    }
    i++;
  }
  return repeated;
}
