import escapeHtmlEntities from 'escape-html';
import { type AuditRecord, DECISIONS, type DecisionKind } from '../../shared/audit/record';
import { actorLabel, digestMatches, resourceLabel, shortTime, stateRows } from './format';
import { sanitize } from './text';

export interface ReportInput {
  records: AuditRecord[];
  bucket: string;
  prefix: string;
  generatedAt: Date;
  /** The `--since/--until` range; absent ends fall back to the records' own first and last times. */
  since?: Date;
  until?: Date;
  /** Human description of the filters, shown in the header. */
  filters: string;
}

/** Everything user-controlled passes through here: sanitised to one line, then HTML-escaped. */
export function escapeHtml(value: unknown): string {
  return escapeHtmlEntities(sanitize(String(value)));
}

const DECISION_COLOURS: Record<DecisionKind, string> = {
  remediated: '#2e7d32',
  alerted: '#ef6c00',
  excepted: '#6a1b9a',
  skipped: '#8d8d8d',
  failed: '#c62828',
  'dry-run': '#1565c0',
  reported: '#5d4037',
};

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/**
 * `ossguard audit report`: one self-contained HTML page. No scripts, no external assets (the CSP says so
 * too, so a mistake in escaping still could not run code), readable offline and printable.
 */
/**
 * A self-contained page's head: no script, no outside resource (the CSP allows inline styles only), so a
 * report opened from disk or mail cannot fetch anything. `title` is HTML already escaped.
 */
export const pageHead = (title: string, style: string): string => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>${style}</style>
</head>`;

export function renderReport(input: ReportInput): string {
  const { records } = input;
  const times = records.map((r) => Date.parse(r.time)).filter((t) => !Number.isNaN(t));
  const from = input.since?.getTime() ?? (times.length ? Math.min(...times) : input.generatedAt.getTime());
  const to = input.until?.getTime() ?? (times.length ? Math.max(...times) : input.generatedAt.getTime());
  const range = `${shortTime(new Date(from).toISOString())} to ${shortTime(new Date(to).toISOString())}`;
  return `${pageHead('ossguard audit report', STYLE)}
<body>
<header>
<h1>ossguard audit report</h1>
<p class="meta">${records.length} record${records.length === 1 ? '' : 's'} from <code>oss://${escapeHtml(input.bucket)}/${escapeHtml(input.prefix)}</code>, ${escapeHtml(range)}. Filters: ${escapeHtml(input.filters)}. Generated ${escapeHtml(shortTime(input.generatedAt.toISOString()))}.</p>
</header>
<section id="timeline" aria-labelledby="timeline-title">
<h2 id="timeline-title">Timeline</h2>
${timeline(records, from, to)}
${legend()}
</section>
<section id="counts" class="counts">
${countTable(
  'by-decision',
  'By decision',
  count(records, (r) => [r.decision]),
  (label) => DECISION_COLOURS[label as DecisionKind],
)}
${countTable(
  'by-rule',
  'By rule',
  count(records, (r) => r.rules.map((rule) => rule.ruleId)),
)}
${countTable(
  'by-actor',
  'By actor',
  count(records, (r) => [actorLabel(r)]),
)}
</section>
<section id="records" aria-labelledby="records-title">
<h2 id="records-title">Records</h2>
${records.length === 0 ? '<p class="empty">No records match.</p>' : recordTable(records)}
</section>
</body>
</html>
`;
}

function count(records: AuditRecord[], labels: (r: AuditRecord) => string[]): Array<[string, number]> {
  const counts = new Map<string, number>();
  for (const record of records)
    for (const label of labels(record)) counts.set(label, (counts.get(label) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
}

export function countTable(
  id: string,
  title: string,
  rows: Array<[string, number]>,
  colour?: (label: string) => string | undefined,
  unit = 'records',
): string {
  const max = Math.max(1, ...rows.map(([, n]) => n));
  const body = rows
    .map(([label, n]) => {
      const fill = colour?.(label) ?? '#455a64';
      return `<tr><th scope="row">${escapeHtml(label)}</th><td class="bar"><span style="width:${((n / max) * 100).toFixed(1)}%;background:${fill}"></span></td><td class="n">${n}</td></tr>`;
    })
    .join('\n');
  return `<div class="count" id="${id}"><h2>${title}</h2>
<table><thead><tr><th scope="col">${title.replace('By ', '')}</th><th scope="col" class="bar">share</th><th scope="col" class="n">${unit}</th></tr></thead>
<tbody>${body || '<tr><td colspan="3" class="empty">none</td></tr>'}</tbody></table></div>`;
}

/** Hourly bars for up to two days, daily up to ~four months, monthly beyond: always a readable number of bars. */
function periodOf(
  from: number,
  to: number,
): { start: (t: number) => number; next: (t: number) => number; label: (t: number) => string } {
  const span = to - from;
  if (span <= 2 * DAY)
    return {
      start: (t) => t - (t % HOUR),
      next: (t) => t + HOUR,
      label: (t) => new Date(t).toISOString().slice(5, 13).replace('T', ' ') + 'h',
    };
  if (span <= 120 * DAY)
    return {
      start: (t) => t - (t % DAY),
      next: (t) => t + DAY,
      label: (t) => new Date(t).toISOString().slice(0, 10),
    };
  const monthStart = (t: number) => {
    const d = new Date(t);
    return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  };
  return {
    start: monthStart,
    next: (t) => {
      const d = new Date(t);
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
    },
    label: (t) => new Date(t).toISOString().slice(0, 7),
  };
}

function timeline(records: AuditRecord[], from: number, to: number): string {
  const period = periodOf(from, to);
  const starts: number[] = [];
  for (let t = period.start(from); t <= to; t = period.next(t)) starts.push(t);
  const bars = starts.map(() => new Map<DecisionKind, number>());
  for (const record of records) {
    const t = Date.parse(record.time);
    const start = period.start(t);
    const index = starts.indexOf(start);
    const bar = bars[index];
    if (bar) bar.set(record.decision, (bar.get(record.decision) ?? 0) + 1);
  }
  const totals = bars.map((b) => [...b.values()].reduce((x, y) => x + y, 0));
  const max = Math.max(1, ...totals);
  const [W, H, left, right, bottom, top] = [960, 240, 40, 40, 36, 12];
  const plotH = H - bottom - top;
  const step = (W - left - right) / Math.max(1, starts.length);
  const barW = Math.max(1, step * 0.8);
  const labelEvery = Math.max(1, Math.ceil(starts.length / 12));
  const parts: string[] = [];
  starts.forEach((start, i) => {
    const x = left + i * step + (step - barW) / 2;
    let y = top + plotH;
    const bar = bars[i] ?? new Map();
    const summary = DECISIONS.filter((d) => bar.get(d))
      .map((d) => `${bar.get(d)} ${d}`)
      .join(', ');
    parts.push(
      `<g class="period"><title>${escapeHtml(`${period.label(start)}: ${summary || 'no records'}`)}</title>`,
    );
    for (const decision of DECISIONS) {
      const n = bar.get(decision) ?? 0;
      if (n === 0) continue;
      const h = (n / max) * plotH;
      y -= h;
      parts.push(
        `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${barW.toFixed(1)}" height="${h.toFixed(1)}" fill="${DECISION_COLOURS[decision]}"/>`,
      );
    }
    parts.push('</g>');
    if (i % labelEvery === 0)
      parts.push(
        `<text x="${(x + barW / 2).toFixed(1)}" y="${H - bottom + 16}" text-anchor="middle">${escapeHtml(period.label(start))}</text>`,
      );
  });
  const axis =
    `<line x1="${left}" y1="${top + plotH}" x2="${W - right}" y2="${top + plotH}" stroke="#999"/>` +
    `<line x1="${left}" y1="${top}" x2="${left}" y2="${top + plotH}" stroke="#999"/>` +
    `<text x="${left - 6}" y="${top + 10}" text-anchor="end">${max}</text>` +
    `<text x="${left - 6}" y="${top + plotH}" text-anchor="end">0</text>`;
  const label = `Records per period: ${records.length} in ${starts.length} period${starts.length === 1 ? '' : 's'}, at most ${totals.length ? Math.max(...totals) : 0} in one`;
  return `<svg class="timeline" viewBox="0 0 ${W} ${H}" role="img" aria-label="${escapeHtml(label)}" xmlns="http://www.w3.org/2000/svg">${axis}${parts.join('')}</svg>`;
}

function legend(): string {
  return `<ul class="legend">${DECISIONS.map((d) => `<li><span style="background:${DECISION_COLOURS[d]}"></span>${d}</li>`).join('')}</ul>`;
}

function recordTable(records: AuditRecord[]): string {
  const rows = records.map((r) => {
    const state = stateRows(r.before, r.after);
    const stateHtml = state.length
      ? `<table class="state"><thead><tr><th>field</th><th>before</th><th>after</th></tr></thead><tbody>${state
          .map(
            (s) =>
              `<tr${s.changed ? ' class="changed"' : ''}><th scope="row">${escapeHtml(s.field)}</th><td>${escapeHtml(s.before)}</td><td>${escapeHtml(s.after)}</td></tr>`,
          )
          .join('')}</tbody></table>`
      : '<span class="muted">no state recorded</span>';
    const rules = r.rules.length
      ? r.rules
          .map(
            (rule) =>
              `<span class="rule" title="${escapeHtml(rule.message)}">${escapeHtml(rule.ruleId)}</span>`,
          )
          .join(' ')
      : '<span class="muted">-</span>';
    const integrity = digestMatches(r) ? '' : ' <span class="tampered">digest mismatch</span>';
    return `<tr>
<td class="time">${escapeHtml(shortTime(r.time))}</td>
<td><span class="decision" style="background:${DECISION_COLOURS[r.decision] ?? '#455a64'}">${escapeHtml(r.decision)}</span>${integrity}</td>
<td>${escapeHtml(r.eventName)}<div class="muted">${escapeHtml(r.eventId)}</div></td>
<td>${escapeHtml(resourceLabel(r))}</td>
<td>${escapeHtml(actorLabel(r))}<div class="muted">${escapeHtml(r.actor.type)}</div></td>
<td>${rules}</td>
<td>${escapeHtml(r.reason)}</td>
<td>${stateHtml}</td>
</tr>`;
  });
  return `<table class="records"><thead><tr><th>time</th><th>decision</th><th>event</th><th>resource</th><th>actor</th><th>rules</th><th>reason</th><th>before / after</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table>`;
}

export const STYLE = `
:root { color-scheme: light; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d1d1f; }
body { margin: 0 auto; padding: 24px; max-width: 1400px; background: #fafafa; }
h1 { font-size: 1.6rem; margin: 0 0 4px; }
h2 { font-size: 1.1rem; margin: 24px 0 8px; }
.meta, .muted { color: #5f6368; }
.muted { font-size: .85em; }
code { font-family: ui-monospace, Menlo, Consolas, monospace; }
section { background: #fff; border: 1px solid #e0e0e0; border-radius: 8px; padding: 8px 16px 16px; margin-top: 16px; }
svg.timeline { width: 100%; height: auto; font-size: 11px; fill: #333; }
.legend { list-style: none; padding: 0; margin: 4px 0 0; display: flex; gap: 16px; flex-wrap: wrap; font-size: .9em; }
.legend span { display: inline-block; width: 12px; height: 12px; border-radius: 2px; margin-right: 6px; vertical-align: -1px; }
.counts { display: grid; grid-template-columns: repeat(auto-fit, minmax(280px, 1fr)); gap: 24px; }
.count table { width: 100%; border-collapse: collapse; }
.count th, .count td { padding: 3px 6px; text-align: left; border-bottom: 1px solid #eee; font-weight: normal; overflow-wrap: break-word; }
.count thead th { font-weight: 600; }
td.bar { width: 45%; }
td.bar span { display: block; height: 12px; border-radius: 2px; min-width: 2px; }
.n { text-align: right !important; font-variant-numeric: tabular-nums; }
table.records { width: 100%; border-collapse: collapse; font-size: .9em; }
table.records > thead th { text-align: left; border-bottom: 2px solid #ccc; padding: 6px; }
table.records > tbody > tr > td { vertical-align: top; border-bottom: 1px solid #eee; padding: 6px; overflow-wrap: break-word; }
td.time { white-space: nowrap; font-variant-numeric: tabular-nums; }
.decision { color: #fff; border-radius: 10px; padding: 1px 8px; white-space: nowrap; }
.tampered { color: #c62828; font-weight: 700; }
.rule { display: inline-block; background: #eceff1; border-radius: 4px; padding: 0 4px; margin: 1px 0; }
table.state { border-collapse: collapse; font-size: .95em; }
table.state th, table.state td { border: 1px solid #e0e0e0; padding: 1px 6px; text-align: left; font-weight: normal; }
table.state thead th { background: #f5f5f5; }
table.state th:first-child { white-space: nowrap; }
table.state tr.changed td { background: #fff3e0; }
.empty { color: #5f6368; font-style: italic; }
@media print { body { background: #fff; } section { break-inside: avoid; } }
`;
