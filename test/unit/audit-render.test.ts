import { describe, expect, it } from 'vitest';
import { renderRecordText } from '../../cli/audit/format';
import { escapeHtml, renderReport } from '../../cli/audit/html';
import { PROGRESS_THRESHOLD, ProgressBar } from '../../cli/audit/progress';
import { renderTable } from '../../cli/audit/table';
import { displayWidth, sanitize, terminalSafeJson, truncate } from '../../cli/audit/text';
import { buildCheckpoint, parseCheckpoint } from '../../shared/audit/integrity-checkpoint';
import { type AuditRecord, sign } from '../../shared/audit/record';
import { auditRecordOf } from '../helpers/audit-record';

const hostile = 'evil\x1b[2J\x1b]0;pwned\x07\x1b[31m-bucket\r\nline2\u202eexe.txt\u009b';

const record: AuditRecord = sign(
  auditRecordOf({
    eventId: 'e-9',
    dedupeKey: 'actiontrail:e-9',
    eventName: 'PutObjectAcl',
    time: '2026-11-28T10:00:00.123Z',
    actor: { type: 'ram-user', userName: hostile },
    resource: { bucket: 'site-www', objectKey: '<img src=x onerror=alert(1)>.png' },
    before: { acl: 'public-read' },
    after: { acl: 'private' },
    rules: [
      {
        ruleId: 'object-acl-public',
        severity: 'high',
        message: hostile,
        evidence: { acl: 'public-read' },
        mode: 'enforce',
      },
    ],
    reason: `reverted ${hostile}`,
  }),
);

describe('terminal text', () => {
  it('drops escape sequences and turns other control characters into spaces', () => {
    expect(sanitize(hostile)).toBe('evil-bucket  line2 exe.txt ');
  });

  it('truncates by code points with an ellipsis, never splitting a surrogate pair', () => {
    expect(truncate('abcdef', 4)).toBe('abc…');
    expect(truncate('ab😀cd', 3)).toBe('ab…');
    expect(truncate('abc', 3)).toBe('abc');
  });

  it('writes JSON that parses to the same value but carries no raw C1 or bidi controls', () => {
    const text = terminalSafeJson({ name: hostile });
    // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting that no control characters got through.
    expect(text).not.toMatch(/[\x00-\x1f\x7f-\x9f\u202e]/);
    expect(JSON.parse(text)).toEqual({ name: hostile });
  });
});

describe('tables', () => {
  const columns = [
    { header: 'time', min: 20 },
    { header: 'resource', min: 8 },
    { header: 'reason', min: 8 },
  ];
  const rows = [['2026-11-28T10:00:00Z', 'a-very-long-bucket-name/with/a/long/key.png', 'x'.repeat(200)]];

  it('shrinks the widest columns until every line fits the width', () => {
    const lines = renderTable(columns, rows, 60).trimEnd().split('\n');
    for (const line of lines) expect(Array.from(line).length).toBeLessThanOrEqual(60);
    expect(lines[1]).toContain('2026-11-28T10:00:00Z');
    expect(lines[1]).toContain('…');
  });

  it('leaves a table that fits untouched', () => {
    expect(renderTable(columns, [['t', 'b', 'r']], 200)).toBe('time  resource  reason\nt     b         r\n');
  });

  it('aligns columns after CJK and emoji bucket and user names, counting wide characters as two columns', () => {
    const named = [
      { header: 'bucket', min: 6 },
      { header: 'user', min: 4 },
      { header: 'decision', min: 8 },
    ];
    const text = renderTable(
      named,
      [
        ['财务-报表', '张三', 'remediated'],
        ['logs', 'ユーザー', 'alerted'],
        ['🚀-launch', 'bob', 'skipped'],
      ],
      200,
    );
    const lines = text.trimEnd().split('\n');
    const columnStarts = (line: string) =>
      ['user', '张三', 'ユーザー', 'bob'].flatMap((cell) =>
        line.includes(cell) ? [displayWidth(line.slice(0, line.indexOf(cell)))] : [],
      );
    expect(lines.map(columnStarts)).toEqual([[11], [11], [11], [11]]);
  });

  it('cuts a wide name to the column width in terminal columns, never half a character', () => {
    const lines = renderTable(
      [
        { header: 'bucket', min: 4 },
        { header: 'n', min: 1 },
      ],
      [['数据仓库生产环境备份', '1']],
      12,
    )
      .trimEnd()
      .split('\n');
    for (const line of lines) expect(displayWidth(line)).toBeLessThanOrEqual(12);
    expect(lines[1]).toBe('数据仓库…  1');
  });

  it('cannot be broken by a cell that contains escapes or newlines', () => {
    const text = renderTable(columns, [['t', hostile, 'r']], 200);
    expect(text).not.toContain('\x1b');
    expect(text.trimEnd().split('\n')).toHaveLength(2);
  });
});

describe('record details', () => {
  it('shows every section on its own labelled lines, sanitised, with the digest checked', () => {
    const text = renderRecordText(record, 'ossguard/audit/2026/11/28/abc.json', 100);
    expect(text).not.toContain('\x1b');
    expect(text).toMatch(/^Decision {5}remediated: reverted evil-bucket/m);
    expect(text).toMatch(/^\s+\* acl\s+public-read\s+private$/m);
    expect(text).toMatch(/^Digest .*\(matches the content\)$/m);
    const altered = { ...record, reason: 'nothing to see' };
    expect(renderRecordText(altered, 'k', 100)).toMatch(/DOES NOT MATCH the content/);
  });
});

describe('HTML report', () => {
  const html = renderReport({
    records: [record],
    bucket: 'audit',
    prefix: 'ossguard/audit/',
    generatedAt: new Date('2026-11-28T12:00:00Z'),
    filters: 'none',
  });

  it('escapes every user-controlled value', () => {
    expect(escapeHtml(`<a href="x">'&`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;.png');
    expect(html).not.toContain('<img');
    expect(html).not.toContain('\x1b');
  });

  it('needs no script and loads nothing from elsewhere', () => {
    expect(html).not.toMatch(/<script|<link|<img|@import|url\(/i);
    expect(html).toContain("default-src 'none'");
  });

  it('has a timeline, counts by decision, rule and actor, and the before/after of each record', () => {
    expect(html).toMatch(/<svg class="timeline"[^>]*>.*<rect /s);
    for (const id of ['by-decision', 'by-rule', 'by-actor']) expect(html).toContain(`id="${id}"`);
    expect(html).toMatch(
      /<tr class="changed"><th scope="row">acl<\/th><td>public-read<\/td><td>private<\/td><\/tr>/,
    );
  });
});

describe('progress bar', () => {
  const stream = (isTTY: boolean) => {
    const chunks: string[] = [];
    return { isTTY, chunks, write: (chunk: string) => chunks.push(chunk) > 0 };
  };

  it('draws on a terminal for large reads and erases itself when done', () => {
    const tty = stream(true);
    let clock = 0;
    const bar = new ProgressBar(tty, 'reading', () => (clock += 100));
    bar.update(30, PROGRESS_THRESHOLD + 10);
    bar.update(PROGRESS_THRESHOLD + 10, PROGRESS_THRESHOLD + 10);
    bar.finish();
    expect(tty.chunks[0]).toMatch(/^\rreading \[#+-+\] 30\/60$/);
    expect(tty.chunks[1]).toContain('60/60');
    expect(tty.chunks.at(-1)).toBe('\r\x1b[2K');
  });

  it('stays silent when stderr is not a terminal or the read is small', () => {
    const pipe = stream(false);
    new ProgressBar(pipe, 'reading').update(10, 500);
    const tty = stream(true);
    const small = new ProgressBar(tty, 'reading');
    small.update(10, PROGRESS_THRESHOLD);
    small.finish();
    expect([...pipe.chunks, ...tty.chunks]).toEqual([]);
  });
});

describe('checkpoints', () => {
  const checkpoint = buildCheckpoint({
    createdAt: '2026-11-28T12:00:00.000Z',
    bucket: 'audit',
    prefix: 'ossguard/audit/',
    previous: null,
    entries: [{ key: 'ossguard/audit/2026/11/28/abc.json', sha256: 'f'.repeat(64) }],
    total: 1,
  });

  it('parses back a checkpoint that matches its digest', () => {
    expect(parseCheckpoint(Buffer.from(JSON.stringify(checkpoint)))).toEqual({ checkpoint });
  });

  it('rejects a checkpoint whose entries were edited', () => {
    const edited = { ...checkpoint, entries: [] };
    expect(parseCheckpoint(Buffer.from(JSON.stringify(edited)))).toEqual({
      problem: 'does not match its digest',
    });
    expect(parseCheckpoint(Buffer.from('{"kind":"other"}'))).toEqual({
      problem: 'is not an ossguard checkpoint',
    });
  });
});
