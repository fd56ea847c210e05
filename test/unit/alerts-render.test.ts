import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  EMAIL_DIGEST_DETAILED,
  renderDingTalkDigest,
  renderDingTalkMarkdown,
  renderEmail,
  renderEmailDigest,
} from '../../shared/alerts/render';
import { escapeHtml, escapeMarkdown, redact, singleLine, stableId } from '../../shared/alerts/text';
import type { Alert } from '../../shared/alerts/types';
import { makeAlert, manyAlerts } from './alerts-fixtures';

const MARKDOWN_SPECIAL = new Set('\\`*_[]()#>!|~<');
const LINE_BREAK = /[\r\n\u0085\u2028\u2029]/;

/** The literal text an escaped markdown value shows, or null if any special character is left unescaped. */
function literalText(escaped: string): string | null {
  let out = '';
  for (let i = 0; i < escaped.length; i++) {
    const char = escaped[i]!;
    if (char === '\\') {
      const next = escaped[i + 1];
      // CommonMark: a backslash escapes any ASCII punctuation character.
      if (next === undefined || !/[!-/:-@[-`{-~]/.test(next)) return null;
      out += next;
      i++;
    } else if (MARKDOWN_SPECIAL.has(char)) {
      return null;
    } else {
      out += char;
    }
  }
  return out;
}

/** The same alert with every text replaced by `x`: the line layout every rendering must keep. */
const twin = (alert: Alert): Alert => ({
  ...alert,
  id: 'x',
  title: 'x',
  summary: 'x',
  time: 'x',
  facts: alert.facts.map(() => ({ label: 'x', value: 'x' })),
  actions: alert.actions.map(() => 'x'),
});

const HOSTILE = [
  ['a markdown link', '[click me](https://evil.example/login)'],
  ['an image', '![x](https://evil.example/pixel.png)'],
  ['a script tag', '<script>alert(1)</script>'],
  ['a font tag', '<font color=red>URGENT: rotate keys at evil.example</font>'],
  ['newlines opening blocks', 'name\n# Heading\n> quote\n- item\n\n---'],
  ['a header injection', 'bucket\r\nBcc: evil@x.example'],
  ['emphasis and code', '**bold** _em_ ~~strike~~ `code` |cell|'],
  ['Unicode line separators', 'a\u2028b\u2029c\u0085d'],
  ['a bidi override', 'invoice\u202Efdp.exe'],
  ['backslashes', '\\*not bold\\* \\'],
  ['an HTML entity', '&lt;b&gt; & "quotes" \'single\''],
] as const;

describe('escaping a hostile value', () => {
  it.each(HOSTILE)('keeps %s on its own DingTalk fact line as literal text', (_case, value) => {
    const alert = makeAlert({ facts: [{ label: 'Resource', value }] });
    const lines = renderDingTalkMarkdown(alert).text.split('\n');
    expect(lines).toHaveLength(renderDingTalkMarkdown(twin(alert)).text.split('\n').length);
    const factLine = lines.find((line) => line.startsWith('- **Resource:**'));
    expect(factLine).toBe(`- **Resource:** ${escapeMarkdown(value)}`);
    expect(literalText(escapeMarkdown(value))).toBe(singleLine(value));
  });

  it.each([
    ['a bullet', '- !'],
    ['a plus bullet', '+ x'],
    ['an ordered item', '12. x'],
    ['an ordered item with a parenthesis', '3) x'],
    ['a setext underline', '==='],
  ])('keeps a summary that starts with %s a paragraph, not a block', (_case, summary) => {
    const lines = renderDingTalkMarkdown(makeAlert({ summary })).text.split('\n');
    expect(lines[2]).toBe(escapeMarkdown(summary));
    expect(lines[2]).toMatch(/^\\|^\d+\\/);
    expect(literalText(escapeMarkdown(summary))).toBe(summary);
  });

  it.each(HOSTILE)('shows %s as text in the email HTML and on one line of the plain text', (_case, value) => {
    const alert = makeAlert({ facts: [{ label: 'Resource', value }] });
    const email = renderEmail(alert);
    expect(email.html).toContain(`<td style="word-break:break-all">${escapeHtml(value)}</td>`);
    expect(escapeHtml(value)).not.toMatch(/[<>"']/);
    expect(email.text.split('\n')).toHaveLength(renderEmail(twin(alert)).text.split('\n').length);
    expect(email.text).toContain(`\nResource: ${singleLine(value)}\n`);
  });

  it.each(HOSTILE)('keeps %s in a title from leaving the subject line', (_case, value) => {
    const { subject } = renderEmail(makeAlert({ title: value }));
    expect(subject).not.toMatch(LINE_BREAK);
    expect(subject).not.toMatch(/\p{Cc}/u);
  });

  it('removes invisible characters that could disguise a name', () => {
    expect(singleLine('shop\u200B-assets\u202E')).toBe('shop-assets');
  });

  it('caps a very long value and marks the cut', () => {
    const shown = singleLine('a'.repeat(5_000));
    expect(Array.from(shown)).toHaveLength(500);
    expect(shown.endsWith('…')).toBe(true);
  });

  it('caps a long value before escaping it for HTML, so no entity is cut in half', () => {
    const shown = escapeHtml('<&'.repeat(100), 9);
    expect(shown).toBe('&lt;&amp;&lt;&amp;&lt;&amp;&lt;&amp;…');
  });
});

const hostileText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc
    .array(fc.oneof(fc.constantFrom(...HOSTILE.map(([, v]) => v)), fc.string({ maxLength: 5 })), {
      maxLength: 6,
    })
    .map((parts) => parts.join('')),
);

const hostileAlert = fc.record({
  id: hostileText,
  severity: fc.constantFrom('info', 'low', 'medium', 'high', 'critical' as const),
  title: hostileText,
  summary: hostileText,
  facts: fc.array(fc.record({ label: hostileText, value: hostileText }), { maxLength: 6 }),
  actions: fc.array(hostileText, { maxLength: 3 }),
  rules: fc.constant(['bucket-acl-public-read']),
  time: hostileText,
}) as fc.Arbitrary<Alert>;

describe('no generated value breaks out of its place', () => {
  it('escapes any string into one line of literal markdown text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (value) => {
        const escaped = escapeMarkdown(value);
        expect(escaped).not.toMatch(LINE_BREAK);
        expect(literalText(escaped)).toBe(singleLine(value));
      }),
    );
  });

  it('keeps the DingTalk message layout: same lines, each fact on its own list line', () => {
    fc.assert(
      fc.property(hostileAlert, (alert) => {
        const lines = renderDingTalkMarkdown(alert).text.split('\n');
        const layout = renderDingTalkMarkdown(twin(alert)).text.split('\n');
        expect(lines).toHaveLength(layout.length);
        layout.forEach((line, i) => {
          if (line.startsWith('- **x:**')) expect(lines[i]).toMatch(/^- \*\*/);
        });
        const factLines = lines.filter((line) => line.startsWith('- **'));
        expect(factLines).toEqual(
          alert.facts.map((f) => `- **${escapeMarkdown(f.label)}:** ${escapeMarkdown(f.value)}`),
        );
      }),
    );
  });

  it('keeps the email subject on one line and the text and HTML layout intact', () => {
    fc.assert(
      fc.property(hostileAlert, (alert) => {
        const email = renderEmail(alert);
        expect(email.subject).not.toMatch(LINE_BREAK);
        expect(email.subject).not.toMatch(/\p{Cc}/u);
        expect(email.text.split('\n')).toHaveLength(renderEmail(twin(alert)).text.split('\n').length);
        expect(email.html.match(/<tr>/g)?.length ?? 0).toBe(alert.facts.length);
        for (const fact of alert.facts) {
          expect(email.html).toContain(`<td style="word-break:break-all">${escapeHtml(fact.value)}</td>`);
        }
      }),
    );
  });
});

describe('the same alert in every channel', () => {
  it('shows severity first and every fact, in order, in DingTalk, email text and email HTML', () => {
    const alert = makeAlert({ severity: 'critical' });
    const markdown = renderDingTalkMarkdown(alert);
    const email = renderEmail(alert);
    expect(markdown.text.split('\n')[0]).toMatch(/^### 🔴 CRITICAL · /);
    expect(markdown.title).toMatch(/^CRITICAL /);
    expect(email.subject).toMatch(/^\[CRITICAL\] /);
    expect(email.text.split('\n')[0]).toMatch(/^CRITICAL: /);
    expect(email.html).toContain('>CRITICAL</p>');
    const shown: Array<[string, (value: string) => string]> = [
      [markdown.text, escapeMarkdown],
      [email.text, singleLine],
      [email.html, escapeHtml],
    ];
    for (const [text, show] of shown) {
      const at = alert.facts.map((f) => text.indexOf(show(f.label)));
      expect(alert.facts.every((f) => text.includes(show(f.value)))).toBe(true);
      expect(at.every((p) => p >= 0)).toBe(true);
      expect([...at].sort((a, b) => a - b)).toEqual(at);
      expect(text).toContain(show(alert.id));
    }
  });

  it('lists every alert, most severe first, in a DingTalk digest and an email digest', () => {
    const alerts = manyAlerts(12);
    const markdown = renderDingTalkDigest(alerts, { index: 1, total: 2 });
    const email = renderEmailDigest(alerts);
    for (const alert of alerts) {
      expect(markdown.text).toContain(alert.id);
      expect(email.text).toContain(alert.id);
      expect(email.html).toContain(alert.id);
    }
    expect(markdown.title).toBe('[ossguard] 12 alerts, most severe CRITICAL (part 1 of 2)');
    expect(email.subject).toBe('[CRITICAL] [ossguard] 12 alerts, most severe CRITICAL');
    const entries = markdown.text.split('\n').filter((line) => line.startsWith('- '));
    expect(entries[0]).toContain('**CRITICAL**');
    expect(entries.at(-1)).toContain('**INFO**');
  });

  it('shows the first 20 alerts of a large email digest in full and lists the rest one line each, every id included', () => {
    const alerts = manyAlerts(50);
    const email = renderEmailDigest(alerts);
    expect(email.text.match(/^ossguard alert /gm)).toHaveLength(EMAIL_DIGEST_DETAILED);
    expect(email.text).toContain('30 more, one line each');
    expect(email.text.match(/^- (CRITICAL|HIGH|MEDIUM|LOW|INFO) .* · \S+$/gm)).toHaveLength(30);
    expect(email.html.match(/<li><b /g)).toHaveLength(30);
    for (const alert of alerts) {
      expect(email.text).toContain(alert.id);
      expect(email.html).toContain(alert.id);
    }
  });
});

describe('ids and redaction', () => {
  it('derives the same UUID-shaped id from the same key, and different ones from different keys', () => {
    expect(stableId('alert:a')).toBe(stableId('alert:a'));
    expect(stableId('alert:a')).not.toBe(stableId('alert:b'));
    expect(stableId('alert:\r\n<x>')).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
    );
  });

  it('removes a secret in raw and URL-encoded form', () => {
    expect(redact('sign failed for SEC+a/b= and SEC%2Ba%2Fb%3D', ['SEC+a/b='])).toBe(
      'sign failed for *** and ***',
    );
  });
});
