import { renderTable } from './table.js';

export { formatCount } from '../../util/format-count.js';

export function formatDuration(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** Rows collected, then printed to fit `width` columns (see table.ts). */
export interface PlainTable {
  push(...rows: string[][]): void;
  toString(): string;
}

export function plainTable(options: { head?: string[] }, width: number): PlainTable {
  const rows: string[][] = [];
  return { push: (...added) => void rows.push(...added), toString: () => renderTable({ head: options.head, rows }, width) };
}

export function formatValue(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}
