import { isProblem, type Problem } from '../problem.js';

/** Human output on stdout; `--json` prints the same rows as JSON for scripts. */
export interface Column<Row> {
  header: string;
  value: (row: Row) => unknown;
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return value.toISOString().replace(/\.\d{3}Z$/, 'Z');
  if (Array.isArray(value)) return value.join(',');
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- cells are column values: text, numbers, booleans
  return String(value).replace(/\s+/g, ' ');
}

export function printTable<Row>(rows: Row[], columns: Column<Row>[], out: (line: string) => void = console.log): void {
  const cells = rows.map((row) => columns.map((column) => cell(column.value(row))));
  const widths = columns.map((column, i) => Math.max(column.header.length, ...cells.map((r) => Math.min(r[i]!.length, 60))));
  const line = (values: string[]) =>
    values
      .map((v, i) => (v.length > 60 ? `${v.slice(0, 59)}…` : v).padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  out(line(columns.map((c) => c.header)));
  for (const row of cells) out(line(row));
  if (rows.length === 0) out('(none)');
}

export function printRows<Row>(rows: Row[], columns: Column<Row>[], options: { json?: boolean }): void {
  if (options.json) console.log(JSON.stringify(rows, null, 2));
  else printTable(rows, columns);
}

/** An expected failure the operator can fix: printed as one line, exit code 1. */
export class CliProblem extends Error {}

export function unwrap<T>(value: T | Problem): T {
  if (isProblem(value)) throw new CliProblem(value.problem);
  return value;
}
