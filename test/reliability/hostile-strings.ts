import fc from 'fast-check';

/**
 * Text an attacker controls (object keys, user names, user agents, error messages) that tries to escape its
 * place: markdown and HTML markup, line breaks that start a new mail header or markdown block, terminal
 * escapes, bidi overrides, and sheer size.
 */
export const HOSTILE_STRINGS = [
  '**bold** _it_ [click](https://evil.example/phish) ![x](https://evil.example/p.png)',
  '# heading\n> quote\n- item',
  '<img src=x onerror=alert(1)>',
  '<script>alert(document.cookie)</script>',
  '"><svg onload=alert(1)>',
  "' onmouseover='alert(1)",
  'x\r\nBcc: attacker@evil.example\r\nX-Injected: 1',
  'x\nSubject: fake\n\n<html>',
  '\u001b[2J\u001b[31mFAKE OK\u001b[0m',
  '\u001b]8;;https://evil.example\u0007link\u001b]8;;\u0007',
  'safe\u202Etxt.exe',
  'zero\u200Bwidth',
  'nul\u0000byte',
  '| a | b |\n|---|---|',
  '`code` ~~strike~~ <font color=red>red</font>',
  '@all @13800000000',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a template-injection attempt, meant literally
  '{{7*7}} ${7*7}',
  'a'.repeat(5_000),
] as const;

/** Hostile pieces glued to arbitrary text, so properties see both the known tricks and fresh ones. */
export const hostileText: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...HOSTILE_STRINGS),
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc
    .array(fc.oneof(fc.constantFrom(...HOSTILE_STRINGS), fc.string({ maxLength: 6 })), { maxLength: 4 })
    .map((parts) => parts.join('')),
);

/** Anything a JSON body can hold, hostile strings included. */
export const hostileJson: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    hostileText,
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(
      fc.oneof(hostileText, fc.constantFrom('__proto__', 'constructor', 'eventName')),
      tie('value'),
      {
        maxKeys: 4,
      },
    ),
  ),
})).value;
