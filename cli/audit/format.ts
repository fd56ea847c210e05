import type { AuditRecord, StateSnapshot } from '../../shared/audit/record';
import { digestOf } from '../../shared/audit/record';
import { renderTable } from './table';
import { sanitize } from './text';

/** Labels shared by the table, `show` and the HTML report. They return raw text: callers escape. */
export function actorLabel(record: AuditRecord): string {
  const actor = record.actor;
  return actor.userName ?? actor.principalId ?? actor.type ?? 'unknown';
}

export function resourceLabel(record: AuditRecord): string {
  const r = record.resource;
  const parts: string[] = [];
  if (r.bucket !== undefined) parts.push(r.objectKey !== undefined ? `${r.bucket}/${r.objectKey}` : r.bucket);
  if (r.ramUser !== undefined) parts.push(`ram-user ${r.ramUser}`);
  if (r.accessKeyId !== undefined) parts.push(`key ${r.accessKeyId}`);
  return parts.join(', ') || '-';
}

export const rulesLabel = (record: AuditRecord): string => record.rules.map((r) => r.ruleId).join(',') || '-';

/** ISO time to the second: milliseconds only widen the column. */
export const shortTime = (iso: string): string => iso.replace(/\.\d+(?=Z$)/, '');

export const digestMatches = (record: AuditRecord): boolean => {
  const { digest, ...unsigned } = record;
  return digestOf(unsigned) === digest;
};

/** Fields of before/after, in a stable order, with whether the value changed. */
export function stateRows(
  before: StateSnapshot | undefined,
  after: StateSnapshot | undefined,
): Array<{ field: string; before: string; after: string; changed: boolean }> {
  const fields = [...new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})])].sort();
  const show = (snapshot: StateSnapshot | undefined, field: string) =>
    snapshot && field in snapshot ? String(snapshot[field]) : '-';
  return fields.map((field) => {
    const b = show(before, field);
    const a = show(after, field);
    return { field, before: b, after: a, changed: b !== a };
  });
}

const LABEL_WIDTH = 13;

/** `ossguard audit show`: one record, every field a reviewer needs, one fact per line. */
export function renderRecordText(record: AuditRecord, key: string, width: number): string {
  const lines: string[] = [];
  const add = (label: string, value: string) => {
    const [first = '', ...rest] = value.split('\n');
    lines.push(`${label.padEnd(LABEL_WIDTH)}${first}`);
    for (const line of rest) lines.push(`${' '.repeat(LABEL_WIDTH)}${line}`);
  };
  // Sanitised per value, so the newlines this function adds survive and attacker text cannot add any.
  const s = (value: unknown) => sanitize(String(value));
  const a = record.actor;

  add('Event', `${s(record.eventName)} (${s(record.eventType)}) at ${s(record.time)}`);
  add('Event id', s(record.eventId));
  add('Dedupe key', s(record.dedupeKey));
  add('Audit key', s(key));
  add(
    'Guard',
    `${s(record.guard)} in ${s(record.region)}${record.accountId ? `, account ${s(record.accountId)}` : ''}`,
  );
  add(
    'Decided',
    `${s(record.decidedAt)} by ossguard ${s(record.ossguardVersion)}${record.dryRun ? ' (dry run)' : ''}`,
  );
  add('Decision', `${s(record.decision)}: ${s(record.reason)}`);
  const actorFacts = [
    a.principalId ? `principal ${s(a.principalId)}` : '',
    a.accessKeyId ? `key ${s(a.accessKeyId)}` : '',
    a.sourceIp ? `from ${s(a.sourceIp)}` : '',
    a.mfaAuthenticated === undefined ? '' : `MFA ${a.mfaAuthenticated ? 'yes' : 'no'}`,
    a.userAgent ? `agent ${s(a.userAgent)}` : '',
  ].filter(Boolean);
  add(
    'Actor',
    `${s(a.type)} ${s(actorLabel(record))}${actorFacts.length ? ` (${actorFacts.join(', ')})` : ''}`,
  );
  add('Resource', s(resourceLabel(record)));
  add(
    'Rules',
    record.rules.length === 0
      ? '-'
      : record.rules
          .map((r) => {
            const evidence = Object.entries(r.evidence ?? {})
              .map(([k, v]) => `${s(k)}=${s(v)}`)
              .join(', ');
            return `${s(r.ruleId)} [${s(r.severity)}, ${s(r.mode)}]: ${s(r.message)}${evidence ? `\n  evidence: ${evidence}` : ''}`;
          })
          .join('\n'),
  );
  const state = stateRows(record.before, record.after);
  if (state.length > 0) {
    const rows = state.map((r) => [r.changed ? `* ${r.field}` : `  ${r.field}`, r.before, r.after]);
    const table = renderTable(
      [
        { header: '  field', min: 8 },
        { header: 'before', min: 8 },
        { header: 'after', min: 8 },
      ],
      rows,
      Math.max(40, width - LABEL_WIDTH),
    );
    add('State', table.trimEnd());
  }
  if (record.exception) {
    const e = record.exception;
    add(
      'Exception',
      `${s(e.source)} ${s(e.match)}: ${s(e.reason)}${e.until ? ` (until ${s(e.until)})` : ''}`,
    );
  }
  for (const ignored of record.ignoredExceptions ?? [])
    add('Ignored exc.', `${s(ignored.source)} ${s(ignored.match)}: ${s(ignored.why)}`);
  if (record.alerts?.length) {
    add(
      'Alerts',
      record.alerts
        .map(
          (d) =>
            `${s(d.channel)} ${d.ok ? 'delivered' : 'FAILED'} after ${s(d.attempts)} attempt(s)${d.error ? `: ${s(d.error)}` : ''}`,
        )
        .join('\n'),
    );
  }
  if (record.requestIds?.length) {
    add(
      'Calls',
      record.requestIds
        .map(
          (c) =>
            `${s(c.service)} ${s(c.operation)} ${c.ok ? 'ok' : 'failed'}${c.requestId ? ` ${s(c.requestId)}` : ''}`,
        )
        .join('\n'),
    );
  }
  if (record.error) {
    const e = record.error;
    add('Error', `${s(e.name)}: ${s(e.message)}${e.code ? ` (${s(e.code)})` : ''}`);
  }
  add(
    'Digest',
    `${s(record.digest)} (${digestMatches(record) ? 'matches the content' : 'DOES NOT MATCH the content'})`,
  );
  return `${lines.join('\n')}\n`;
}
