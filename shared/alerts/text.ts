import { createHash } from 'node:crypto';
import escapeHtmlEntities from 'escape-html';

/**
 * Escaping of untrusted values (bucket names, object keys, user names, error texts) for each alert format.
 * Everything starts with `singleLine`: a value can never start a new line, so it can never open a markdown
 * block, add a mail header, or push a fact out of its row, whatever the format-specific escaping misses.
 */

// Every C0/C1 control (CR, LF, TAB, NEL...) and the Unicode line and paragraph separators.
const LINE_BREAKING = /[\p{Cc}\p{Zl}\p{Zp}]+/gu;
// Zero-width characters and bidi overrides render as nothing, or reorder text: a bucket name could be made to
// read as another one.
const INVISIBLE = /[\u200B-\u200F\u202A-\u202E\u2060-\u2069\uFEFF]/g;

/** Longest value shown; the full value stays in the audit record. Keeps one fact from filling a message. */
export const MAX_VALUE_CHARS = 500;

export function truncate(text: string, maxChars: number): string {
  const chars = Array.from(text);
  return chars.length <= maxChars ? text : `${chars.slice(0, maxChars - 1).join('')}…`;
}

/** The value on one line: controls become a space, invisible characters go, then it is trimmed and capped. */
export function singleLine(value: string, maxChars = MAX_VALUE_CHARS): string {
  return truncate(value.replace(INVISIBLE, '').replace(LINE_BREAKING, ' ').trim(), maxChars);
}

// CommonMark's backslash escapes for every character that can start emphasis, a link, an image, a heading, a
// quote, code, a table cell, strikethrough or an HTML tag (DingTalk renders `<font>` tags).
const MARKDOWN_SPECIAL = /[\\`*_[\]()#>!|~<]/g;

/** A list item (`- `, `+ `, `1. `), a setext underline or a heading-like marker where a line starts. */
const LEADING_BLOCK_MARKER = /^(\s*)([-+=]|\d+(?=[.)]))/;

/**
 * A value as literal text inside one markdown line. A value can start the line (an alert's summary does), so a
 * leading block marker is escaped too: `- !` must not turn the summary into a list item.
 */
export function escapeMarkdown(value: string, maxChars = MAX_VALUE_CHARS): string {
  return singleLine(value, maxChars)
    .replace(MARKDOWN_SPECIAL, '\\$&')
    .replace(LEADING_BLOCK_MARKER, (_, space: string, marker: string) =>
      /\d/.test(marker) ? `${space}${marker}\\` : `${space}\\${marker}`,
    );
}

/** A value as literal text in HTML element content or a quoted attribute. */
export function escapeHtml(value: string, maxChars = MAX_VALUE_CHARS): string {
  return escapeHtmlEntities(singleLine(value, maxChars));
}

/**
 * A UUID-shaped id derived from a key: the same alert always gets the same DingTalk msgUuid and Message-ID,
 * so a retried send is recognisable as the same message, and no untrusted character reaches either field.
 */
export function stableId(key: string): string {
  const hex = createHash('sha256').update(key).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** Replaces each secret (and its URL-encoded form) in a text meant for a result or a log. */
export function redact(text: string, secrets: ReadonlyArray<string | undefined>): string {
  let out = text;
  for (const secret of secrets) {
    if (!secret) continue;
    for (const form of new Set([secret, encodeURIComponent(secret)])) out = out.split(form).join('***');
  }
  return out;
}

/** A short description of a thrown value, including the low-level cause code fetch and sockets attach. */
export function describeFailure(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause;
  const code =
    cause && typeof cause === 'object' && 'code' in cause && typeof cause.code === 'string' ? cause.code : '';
  return singleLine(`${error.name}: ${error.message}${code ? ` (${code})` : ''}`, 300);
}
