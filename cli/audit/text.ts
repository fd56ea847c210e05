import stringWidth from 'string-width';

/**
 * Audit records carry attacker-chosen text (bucket names, object keys, user agents, reasons quoting them).
 * Printed raw, an escape sequence in a bucket name could recolour, move the cursor, rewrite earlier lines
 * or set the window title; bidi controls could make a name read as another.
 */
const ESCAPE_SEQUENCE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
  /\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[PX^_][^\x1b]*(?:\x1b\\)?|[ -/]*[0-~]?)/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const CONTROL = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g;

/** One line of plain text: escape sequences dropped, every other control character shown as a space. */
export function sanitize(text: string): string {
  return text.replace(ESCAPE_SEQUENCE, '').replace(CONTROL, ' ');
}

/** Terminal columns `text` takes: two for CJK and most emoji, none for combining marks. */
export const displayWidth = (text: string): number => stringWidth(text);

const CHARACTERS = new Intl.Segmenter('en', { granularity: 'grapheme' });

/** At most `width` terminal columns, ending in `…` when cut (never splitting a character, an emoji included). */
export function truncate(text: string, width: number): string {
  if (displayWidth(text) <= width) return text;
  if (width <= 0) return '';
  let kept = '';
  let used = 0;
  for (const { segment } of CHARACTERS.segment(text)) {
    const columns = displayWidth(segment);
    if (used + columns > width - 1) break;
    kept += segment;
    used += columns;
  }
  return `${kept}…`;
}

/**
 * JSON whose text is safe on a terminal and still parses to the same value: JSON.stringify already
 * escapes C0 controls, this also escapes C1 controls, bidi controls and line separators.
 */
export function terminalSafeJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
