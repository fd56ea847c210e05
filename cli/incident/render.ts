import type { IncidentReport } from '../../shared/incident/report';
import type { KeyCall } from '../../shared/incident/trail';
import { shortTime } from '../audit/format';
import { countTable, escapeHtml, pageHead, STYLE } from '../audit/html';
import { renderTable } from '../audit/table';
import { sanitize } from '../audit/text';

/** How a call shows on the timeline and in the tables. */
type CallKind = 'read' | 'write' | 'change' | 'refused';

const KIND_COLOURS: Record<CallKind, string> = {
  read: '#1565c0',
  write: '#2e7d32',
  change: '#ef6c00',
  refused: '#c62828',
};

function kindOf(report: IncidentReport, call: KeyCall): CallKind {
  if (call.errorCode) return 'refused';
  if (report.changes.includes(call)) return 'change';
  return call.readWrite?.toLowerCase() === 'read' || /^(Get|Head|List|Select|Describe)/.test(call.eventName)
    ? 'read'
    : 'write';
}

const resourceOf = (c: KeyCall): string => {
  if (c.bucket) return c.objectKey !== undefined ? `${c.bucket}/${c.objectKey}` : c.bucket;
  const named = Object.values(c.resources).flat();
  return named.length ? named.join(', ') : '-';
};

const callRow = (c: KeyCall): string[] => [
  shortTime(c.time),
  `${c.service} ${c.eventName}`,
  resourceOf(c),
  c.sourceIp,
  c.errorCode ?? '',
];

const sessionRow = (s: IncidentReport['sessions'][number]): string[] => [
  shortTime(s.time),
  s.roleArn,
  s.sessionName ?? '',
  s.stsAccessKeyId ?? '',
  s.expiration ? `${shortTime(s.expiration)}${s.validAtReport ? ' (valid)' : ' (expired)'}` : 'unknown',
  s.sourceIp,
];

/** The terminal summary: the responder's three questions first, then the evidence. */
export function renderIncidentText(report: IncidentReport, width: number): string {
  const lines: string[] = [];
  const section = (title: string, body: string) => lines.push('', title, body.trimEnd());
  const k = report.key;
  lines.push(
    sanitize(`Incident report for AccessKey ${report.accessKeyId}`),
    sanitize(
      `trail: ${report.source} (${report.sourceNote}), ${shortTime(report.from)} to ${shortTime(report.to)}`,
    ),
    sanitize(
      `key: ${k.status ?? 'status unknown'}${k.owner ? `, owned by RAM user ${k.owner}` : ''}${k.disabledAt ? `, disabled at ${shortTime(k.disabledAt)}` : ''}`,
    ),
    sanitize(
      report.calls === 0
        ? 'calls: none in this window'
        : `calls: ${report.calls}, first ${shortTime(report.firstUse ?? '')}, last ${shortTime(report.lastUse ?? '')}`,
    ),
    sanitize(`still in use: ${k.stillInUse}`),
    ...(report.trailIncomplete ? [sanitize(report.trailIncomplete.note)] : []),
  );
  const table = (headers: string[], rows: string[][]) =>
    rows.length
      ? renderTable(
          headers.map((header) => ({ header, min: 6 })),
          rows,
          width,
        )
      : '  none\n';
  section(
    'Source IPs',
    table(
      ['ip', 'calls'],
      report.sourceIps.map((s) => [s.ip, String(s.calls)]),
    ),
  );
  section(
    'Calls by service and name',
    table(
      ['service', 'call', 'calls', 'refused'],
      report.byCall.map((c) => [c.service, c.eventName, String(c.calls), String(c.failed)]),
    ),
  );
  section(
    'Buckets read or written',
    table(
      ['bucket', 'reads', 'writes'],
      report.buckets.map((b) => [b.bucket, String(b.reads), String(b.writes)]),
    ),
  );
  section(
    'Objects read or written',
    table(
      ['bucket', 'object', 'access', 'calls'],
      report.objects.map((o) => [o.bucket, o.key, o.access, String(o.calls)]),
    ),
  );
  const callHeaders = ['time', 'call', 'resource', 'source ip', 'error'];
  section('Changes (ACLs, policies, keys, users, roles)', table(callHeaders, report.changes.map(callRow)));
  section('Refused calls (probing)', table(callHeaders, report.failed.map(callRow)));
  section(
    'STS sessions minted with this key (their calls carry the session’s own STS key)',
    table(['time', 'role', 'session', 'sts key', 'expires', 'source ip'], report.sessions.map(sessionRow)),
  );
  section(
    'Other keys of the same user',
    table(
      ['accessKeyId', 'status'],
      k.otherKeys.map((o) => [o.accessKeyId, o.status]),
    ),
  );
  return `${lines.join('\n')}\n`;
}

const MINUTE = 60_000;
const DAY = 86_400_000;

/** One mark per call on a time axis, coloured by kind; each mark's title names the call. */
function timeline(report: IncidentReport): string {
  const [W, H, left, right, top, bottom] = [960, 200, 70, 40, 16, 40];
  // The axis spans the calls, not the window searched: 90 days with a minute of calls would be one dot.
  const times = report.timeline.map((c) => Date.parse(c.time));
  const first = times.length ? Math.min(...times) : Date.parse(report.from);
  const last = times.length ? Math.max(...times) : Date.parse(report.to);
  const pad = Math.max(MINUTE, (last - first) / 20);
  const [from, to] = [first - pad, last + pad];
  const x = (t: number) => left + ((t - from) / (to - from)) * (W - left - right);
  const lanes: CallKind[] = ['read', 'write', 'change', 'refused'];
  const laneH = (H - top - bottom) / lanes.length;
  const marks = report.timeline.map((c) => {
    const kind = kindOf(report, c);
    const y = top + lanes.indexOf(kind) * laneH + laneH / 2;
    const label = `${shortTime(c.time)} ${c.service} ${c.eventName} ${resourceOf(c)} from ${c.sourceIp}${c.errorCode ? ` refused: ${c.errorCode}` : ''}`;
    return `<g class="call ${kind}"><title>${escapeHtml(label)}</title><circle cx="${x(Date.parse(c.time)).toFixed(1)}" cy="${y.toFixed(1)}" r="5" fill="${KIND_COLOURS[kind]}"/></g>`;
  });
  const laneLabels = lanes
    .map(
      (lane, i) =>
        `<text class="lane" x="${left - 6}" y="${(top + i * laneH + laneH / 2 + 4).toFixed(1)}" text-anchor="end">${lane}</text>` +
        `<line x1="${left}" y1="${(top + (i + 1) * laneH).toFixed(1)}" x2="${W - right}" y2="${(top + (i + 1) * laneH).toFixed(1)}" stroke="#eee"/>`,
    )
    .join('');
  const fmt = (t: number) => shortTime(new Date(t).toISOString()).slice(0, to - from > 2 * DAY ? 10 : 19);
  const axis =
    `<line x1="${left}" y1="${H - bottom}" x2="${W - right}" y2="${H - bottom}" stroke="#999"/>` +
    `<text x="${left}" y="${H - bottom + 16}">${escapeHtml(fmt(from))}</text>` +
    `<text x="${W - right}" y="${H - bottom + 16}" text-anchor="end">${escapeHtml(fmt(to))}</text>`;
  const label = `${report.calls} calls from ${fmt(from)} to ${fmt(to)}: ${report.failed.length} refused, ${report.changes.length} changes`;
  return `<svg class="timeline" viewBox="0 0 ${W} ${H}" role="img" aria-label="${escapeHtml(label)}" xmlns="http://www.w3.org/2000/svg">${axis}${laneLabels}${marks.join('')}</svg>`;
}

function callTable(id: string, report: IncidentReport, calls: readonly KeyCall[]): string {
  if (calls.length === 0) return `<p class="empty" id="${id}">None.</p>`;
  const rows = calls
    .map((c) => {
      const kind = kindOf(report, c);
      return `<tr><td class="time">${escapeHtml(shortTime(c.time))}</td><td><span class="decision" style="background:${KIND_COLOURS[kind]}">${kind}</span></td><td>${escapeHtml(`${c.service} ${c.eventName}`)}</td><td>${escapeHtml(resourceOf(c))}</td><td>${escapeHtml(c.sourceIp)}<div class="muted">${escapeHtml(c.userAgent)}</div></td><td>${escapeHtml(c.errorCode ?? '')}</td></tr>`;
    })
    .join('\n');
  return `<table class="records" id="${id}"><thead><tr><th>time</th><th>kind</th><th>call</th><th>resource</th><th>source</th><th>error</th></tr></thead><tbody>
${rows}
</tbody></table>`;
}

/**
 * The page a responder attaches to a ticket: self-contained, no scripts, no external assets, as the audit
 * report (cli/audit/html.ts), whose escaping, count tables and style it shares.
 */
const INCIDENT_STYLE = `${STYLE}
table.facts th { text-align: left; padding: 2px 12px 2px 0; font-weight: 600; }
p.still { font-size: 1.05em; }
p.incomplete { background: #fdecea; border-left: 4px solid #c62828; padding: 6px 10px; font-weight: 600; }
`;

export function renderIncidentHtml(report: IncidentReport): string {
  const k = report.key;
  const facts: Array<[string, string]> = [
    ['AccessKey', report.accessKeyId],
    ['status now', k.status ?? 'unknown'],
    ['owner', k.owner ?? 'no RAM user'],
    ['disabled at', k.disabledAt ? shortTime(k.disabledAt) : '-'],
    ['first use', report.firstUse ? shortTime(report.firstUse) : '-'],
    ['last use', report.lastUse ? shortTime(report.lastUse) : '-'],
    ['calls', String(report.calls)],
    ['trail', `${report.source}: ${report.sourceNote}`],
  ];
  return `${pageHead(`ossguard incident ${escapeHtml(report.accessKeyId)}`, INCIDENT_STYLE)}
<body>
<header>
<h1>Incident report: AccessKey <code>${escapeHtml(report.accessKeyId)}</code></h1>
<p class="meta">Calls made with the key from ${escapeHtml(shortTime(report.from))} to ${escapeHtml(shortTime(report.to))}. Generated ${escapeHtml(shortTime(report.generatedAt))}.</p>
${report.trailIncomplete ? `<p class="incomplete" role="alert">${escapeHtml(report.trailIncomplete.note)}</p>` : ''}
</header>
<section id="key" aria-labelledby="key-title">
<h2 id="key-title">The key</h2>
<table class="facts"><tbody>${facts.map(([f, v]) => `<tr><th scope="row">${escapeHtml(f)}</th><td>${escapeHtml(v)}</td></tr>`).join('')}</tbody></table>
<p class="still" id="still-in-use">${escapeHtml(k.stillInUse)}</p>
</section>
<section id="timeline" aria-labelledby="timeline-title">
<h2 id="timeline-title">Timeline</h2>
${timeline(report)}
<ul class="legend">${Object.entries(KIND_COLOURS)
    .map(([kind, colour]) => `<li><span style="background:${colour}"></span>${kind}</li>`)
    .join('')}</ul>
</section>
<section id="counts" class="counts">
${countTable(
  'by-ip',
  'By source IP',
  report.sourceIps.map((s) => [s.ip, s.calls]),
  undefined,
  'calls',
)}
${countTable(
  'by-call',
  'By call',
  report.byCall.map((c) => [`${c.service} ${c.eventName}`, c.calls]),
  undefined,
  'calls',
)}
${countTable(
  'by-bucket',
  'By bucket',
  report.buckets.map((b) => [b.bucket, b.reads + b.writes]),
  undefined,
  'calls',
)}
</section>
<section aria-labelledby="objects-title">
<h2 id="objects-title">Objects read or written</h2>
${
  report.objects.length
    ? `<table class="records" id="objects"><thead><tr><th>bucket</th><th>object</th><th>access</th><th>calls</th></tr></thead><tbody>${report.objects
        .map(
          (o) =>
            `<tr><td>${escapeHtml(o.bucket)}</td><td>${escapeHtml(o.key)}</td><td>${o.access}</td><td class="n">${o.calls}</td></tr>`,
        )
        .join('')}</tbody></table>`
    : '<p class="empty" id="objects">None.</p>'
}
</section>
<section aria-labelledby="changes-title">
<h2 id="changes-title">Changes (ACLs, policies, keys, users, roles)</h2>
${callTable('changes', report, report.changes)}
</section>
<section aria-labelledby="refused-title">
<h2 id="refused-title">Refused calls (probing)</h2>
${callTable('refused', report, report.failed)}
</section>
<section aria-labelledby="sessions-title">
<h2 id="sessions-title">STS sessions minted with this key</h2>
${
  report.sessions.length
    ? `<table class="records" id="sessions"><thead><tr><th>time</th><th>role</th><th>session</th><th>STS key</th><th>expires</th><th>source</th></tr></thead><tbody>${report.sessions
        .map(
          (row) =>
            `<tr>${sessionRow(row)
              .map((cell) => `<td>${escapeHtml(cell)}</td>`)
              .join('')}</tr>`,
        )
        .join('')}</tbody></table>`
    : '<p class="empty" id="sessions">None.</p>'
}
</section>
<section aria-labelledby="other-keys-title">
<h2 id="other-keys-title">Other keys of the same user</h2>
${
  k.otherKeys.length
    ? `<table class="records" id="other-keys"><tbody>${k.otherKeys.map((o) => `<tr><td><code>${escapeHtml(o.accessKeyId)}</code></td><td>${escapeHtml(o.status)}</td></tr>`).join('')}</tbody></table>`
    : '<p class="empty" id="other-keys">None.</p>'
}
</section>
<section aria-labelledby="all-title">
<h2 id="all-title">Every call</h2>
${callTable('all-calls', report, report.timeline)}
</section>
</body>
</html>
`;
}
