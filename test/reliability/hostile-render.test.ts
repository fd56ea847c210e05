import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { renderRecordText } from '../../cli/audit/format';
import { renderReport } from '../../cli/audit/html';
import { alertFor } from '../../shared/alerts/build';
import { planDingTalkMessages } from '../../shared/alerts/dingtalk';
import {
  renderDingTalkDigest,
  renderDingTalkMarkdown,
  renderEmail,
  renderEmailDigest,
} from '../../shared/alerts/render';
import { type AuditRecord, DECISIONS, sign } from '../../shared/audit/record';
import { hostileText } from './hostile-strings';

/**
 * From an audit record with attacker-chosen text in every free-text field to each rendering a person reads:
 * nothing throws, and the hostile record renders with the same structure (markdown lines, HTML tags, terminal
 * lines) as its twin with plain text in the same fields.
 */

const TEXT_FIELDS = 11;

function record(texts: readonly string[], decision: AuditRecord['decision']): AuditRecord {
  const t = (i: number) => texts[i % texts.length] ?? '';
  return sign({
    schemaVersion: 1,
    eventId: t(0),
    dedupeKey: `acs.oss/${t(0)}`,
    eventName: t(1),
    eventType: 'ApiCall',
    time: '2026-11-28T10:00:00Z',
    decidedAt: '2026-11-28T10:00:01Z',
    guard: 'oss-acl-guard',
    region: 'cn-hangzhou',
    actor: { type: 'ram-user', userName: t(2), sourceIp: t(3), userAgent: t(4), accessKeyId: t(5) },
    resource: { bucket: t(6), objectKey: t(7) },
    before: { acl: t(8) },
    after: { acl: 'private' },
    rules: [
      {
        ruleId: 'object-acl-public',
        severity: 'high',
        message: t(9),
        evidence: { acl: t(8) },
        mode: 'enforce',
      },
    ],
    ignoredExceptions: [{ source: 'tag', match: t(10), why: t(9) }],
    decision,
    reason: t(9),
    dryRun: false,
    ossguardVersion: '0.1.0',
    requestIds: [{ service: 'oss', operation: 'GetObjectAcl', requestId: t(5), ok: true }],
    alerts: [{ channel: 'email', ok: false, attempts: 1, error: t(10) }],
    ...(decision === 'failed' ? { error: { name: 'Error', message: t(10) } } : {}),
  });
}

/**
 * A hostile record and its twin with plain text in the same fields. The same hostile text gets the same plain
 * token, and different texts different ones, so the twin groups (report counts by actor, by rule) alike.
 */
const hostileRecords = (maxLength: number) =>
  fc
    .array(
      fc.tuple(
        fc.array(hostileText, { minLength: TEXT_FIELDS, maxLength: TEXT_FIELDS }),
        fc.constantFrom(...DECISIONS),
      ),
      { minLength: 1, maxLength },
    )
    .map((drawn) => {
      const tokens = new Map<string, string>();
      // Blank stays blank, so optional parts of a rendering come and go alike.
      const plain = (text: string) =>
        text.trim() === '' ? text : (tokens.get(text) ?? tokens.set(text, `x${tokens.size}`).get(text) ?? '');
      return drawn.map(([texts, decision]) => ({
        hostile: record(texts, decision),
        twin: record(texts.map(plain), decision),
      }));
    });
const hostileRecord = hostileRecords(1).map(([pair]) => pair as { hostile: AuditRecord; twin: AuditRecord });

/** What makes up a message's structure: markdown line kinds, HTML tags, terminal lines. */
const markdownShape = (text: string) =>
  text.split('\n').map((line) => /^(### |- \*\*|- |\*\*|ossguard alert |)/.exec(line)?.[1]);
const tags = (html: string) => [...html.matchAll(/<\/?[a-zA-Z][a-zA-Z0-9]*/g)].map((m) => m[0]);
const TERMINAL_UNSAFE = (text: string) =>
  Array.from(text).some((c) => (/\p{Cc}/u.test(c) && c !== '\n') || /[\u202a-\u202e\u2066-\u2069]/.test(c));

describe('rendering audit records with hostile text', () => {
  it('keeps the structure of the DingTalk message and the email', () => {
    fc.assert(
      fc.property(hostileRecord, ({ hostile, twin }) => {
        const [alert, plain] = [alertFor(hostile, ['advice']), alertFor(twin, ['advice'])];
        expect(markdownShape(renderDingTalkMarkdown(alert).text)).toEqual(
          markdownShape(renderDingTalkMarkdown(plain).text),
        );
        const email = renderEmail(alert);
        expect(email.subject).not.toMatch(/[\r\n]/);
        expect(tags(email.html)).toEqual(tags(renderEmail(plain).html));
        expect(email.text.split('\n')).toHaveLength(renderEmail(plain).text.split('\n').length);
      }),
      { numRuns: 200 },
    );
  });

  it('keeps the structure of digests, and plans every alert into exactly one DingTalk message', () => {
    fc.assert(
      fc.property(hostileRecords(30), fc.integer({ min: 0, max: 25 }), (pairs, budget) => {
        const alerts = pairs.map(({ hostile }, i) => ({ ...alertFor(hostile), id: `a${i}` }));
        const plain = pairs.map(({ twin }, i) => ({ ...alertFor(twin), id: `a${i}` }));
        expect(markdownShape(renderDingTalkDigest(alerts).text)).toEqual(
          markdownShape(renderDingTalkDigest(plain).text),
        );
        expect(tags(renderEmailDigest(alerts).html)).toEqual(tags(renderEmailDigest(plain).html));
        const planned = planDingTalkMessages(alerts, budget).flatMap((m) => m.alerts.map((a) => a.id));
        expect(planned.sort()).toEqual(alerts.map((a) => a.id).sort());
      }),
      { numRuns: 60 },
    );
  });

  it('keeps `ossguard audit show` to plain lines under their labels', () => {
    fc.assert(
      fc.property(hostileRecord, ({ hostile, twin }) => {
        const text = renderRecordText(hostile, 'ossguard/audit/k.json', 100);
        expect(TERMINAL_UNSAFE(text)).toBe(false);
        const labels = (t: string) => t.split('\n').map((line) => line.slice(0, 13).trim());
        expect(labels(text).filter(Boolean)).toEqual(
          labels(renderRecordText(twin, 'ossguard/audit/k.json', 100)).filter(Boolean),
        );
      }),
      { numRuns: 200 },
    );
  });

  it('keeps the HTML report to its own markup', () => {
    fc.assert(
      fc.property(hostileRecords(5), hostileText, (pairs, filters) => {
        const report = (records: AuditRecord[], text: string) =>
          renderReport({
            records,
            bucket: 'ossguard-audit',
            prefix: 'ossguard/audit/',
            generatedAt: new Date('2026-11-28T12:00:00Z'),
            filters: text,
          });
        const html = report(
          pairs.map((p) => p.hostile),
          filters,
        );
        expect(tags(html)).toEqual(
          tags(
            report(
              pairs.map((p) => p.twin),
              'x',
            ),
          ),
        );
      }),
      { numRuns: 60 },
    );
  });
});
