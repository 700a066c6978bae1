import type { QueryResult } from './duckdb-log';

/** Output formats of `log query`. */
export type OutputFormat = 'table' | 'json' | 'csv';

function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** One CSV field, quoted when needed (RFC 4180). */
export function csvField(value: unknown): string {
  const text = cellText(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Renders a query result as an aligned text table, JSON (array of objects) or CSV. */
export function formatResult(result: QueryResult, format: OutputFormat): string {
  const { columns, rows } = result;
  if (format === 'json') return JSON.stringify(rows, null, 2);
  if (format === 'csv')
    return [columns, ...rows.map((r) => columns.map((c) => r[c]))]
      .map((line) => line.map(csvField).join(','))
      .join('\n');
  const cells = rows.map((r) => columns.map((c) => cellText(r[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const line = (values: readonly string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [
    line(columns),
    line(widths.map((w) => '-'.repeat(w))),
    ...cells.map(line),
    `(${rows.length} row${rows.length === 1 ? '' : 's'})`,
  ].join('\n');
}
