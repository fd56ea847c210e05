import { displayWidth, sanitize, truncate } from './text';

export interface Column {
  header: string;
  /** Never shrunk below this (or its natural width, if smaller). */
  min: number;
}

const GAP = '  ';

/**
 * A plain-text table that fits `width`: cells are sanitised, then the widest column is shrunk one
 * character at a time until the row fits or every column is at its minimum.
 */
export function renderTable(columns: Column[], rows: string[][], width: number): string {
  const cells = rows.map((row) => columns.map((_, i) => sanitize(row[i] ?? '')));
  const widths = columns.map((c, i) =>
    Math.max(displayWidth(c.header), ...cells.map((r) => displayWidth(r[i] ?? ''))),
  );
  const floor = widths.map((w, i) => Math.min(w, columns[i]?.min ?? w));
  const budget = width - GAP.length * (columns.length - 1);
  let total = widths.reduce((a, b) => a + b, 0);
  while (total > budget) {
    let widest = -1;
    for (let i = 0; i < widths.length; i++) {
      const slack = (widths[i] ?? 0) - (floor[i] ?? 0);
      if (slack > 0 && (widest < 0 || (widths[i] ?? 0) > (widths[widest] ?? 0))) widest = i;
    }
    if (widest < 0) break;
    widths[widest] = (widths[widest] ?? 0) - 1;
    total -= 1;
  }
  const line = (row: string[]) =>
    row
      .map((cell, i) => {
        const w = widths[i] ?? 0;
        const text = truncate(cell, w);
        return i === row.length - 1 ? text : text + ' '.repeat(w - displayWidth(text));
      })
      .join(GAP)
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].map((l) => `${l}\n`).join('');
}
