import { registry } from '.';
import type { GuardName, Rule } from './types';

/** The columns of a guard's rules table; the ACL guard's rules each have their own remediation, so it shows them. */
const COLUMNS: Record<GuardName, ReadonlyArray<[string, (rule: Rule<never>) => string]>> = {
  'oss-acl-guard': [
    ['id', (r) => `\`${r.id}\``],
    ['severity', (r) => r.severityNote ?? r.severity],
    ['fires when', (r) => r.firesWhen],
    ['remediation (enforce mode)', (r) => r.remediation?.description ?? 'none: alert only'],
  ],
  'access-key-guard': [
    ['id', (r) => `\`${r.id}\``],
    ['severity', (r) => r.severityNote ?? r.severity],
    ['fires when', (r) => r.firesWhen],
  ],
  'oss-policy-guard': [
    ['id', (r) => `\`${r.id}\``],
    ['severity', (r) => r.severityNote ?? r.severity],
    ['fires when', (r) => r.firesWhen],
  ],
  'identity-policy-guard': [
    ['id', (r) => `\`${r.id}\``],
    ['severity', (r) => r.severityNote ?? r.severity],
    ['fires when', (r) => r.firesWhen],
    ['remediation (enforce mode)', (r) => r.remediation?.description ?? 'none: alert only'],
  ],
  'console-mfa-guard': [
    ['id', (r) => `\`${r.id}\``],
    ['severity', (r) => r.severityNote ?? r.severity],
    ['fires when', (r) => r.firesWhen],
  ],
  'key-hygiene-guard': [
    ['id', (r) => `\`${r.id}\``],
    ['severity', (r) => r.severityNote ?? r.severity],
    ['fires when', (r) => r.firesWhen],
    ['remediation (enforce mode)', (r) => r.remediation?.description ?? 'none: alert only'],
  ],
  'user-tag-guard': [
    ['id', (r) => `\`${r.id}\``],
    ['severity', (r) => r.severityNote ?? r.severity],
    ['fires when', (r) => r.firesWhen],
    ['remediation (enforce mode)', (r) => r.remediation?.description ?? 'none: alert only'],
  ],
  'role-trust-guard': [
    ['id', (r) => `\`${r.id}\``],
    ['severity', (r) => r.severityNote ?? r.severity],
    ['fires when', (r) => r.firesWhen],
  ],
  'key-usage-guard': [
    ['id', (r) => `\`${r.id}\``],
    ['severity', (r) => r.severityNote ?? r.severity],
    ['fires when', (r) => r.firesWhen],
    ['remediation (enforce mode)', (r) => r.remediation?.description ?? 'none: alert only'],
  ],
};

/** A guard's rules as a Markdown table, columns padded as a formatter would. */
export function rulesTable(guard: GuardName, rules: readonly Rule<never>[] = registry): string {
  const columns = COLUMNS[guard];
  const rows = rules.filter((r) => r.guard === guard).map((r) => columns.map(([, cell]) => cell(r)));
  const widths = columns.map(([title], i) =>
    Math.max(title.length, ...rows.map((row) => (row[i] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [
    line(columns.map(([title]) => title)),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
  ].join('\n');
}

const GUARDS: readonly GuardName[] = [
  'oss-acl-guard',
  'access-key-guard',
  'oss-policy-guard',
  'key-usage-guard',
  'key-hygiene-guard',
  'identity-policy-guard',
  'console-mfa-guard',
  'user-tag-guard',
  'role-trust-guard',
];

/**
 * The README with each `<!-- rules-table:<guard> -->` … `<!-- /rules-table -->` section rendered from the
 * registry; everything outside the markers is kept as it is.
 */
export function renderRulesTables(readme: string): string {
  let out = readme;
  for (const guard of GUARDS) {
    const open = `<!-- rules-table:${guard} -->`;
    const start = out.indexOf(open);
    const end = out.indexOf('<!-- /rules-table -->', start);
    if (start < 0 || end < 0) throw new Error(`README.md has no ${open} … <!-- /rules-table --> section`);
    out = `${out.slice(0, start + open.length)}\n\n${rulesTable(guard)}\n\n${out.slice(end)}`;
  }
  return out;
}
