import Table from 'cli-table3';
import { widestAtom, widestLine, wrapText } from './wrap.js';

/**
 * Every table the tool prints goes through here, so each one fits the width (src/cli/output.ts decides
 * it; Infinity: no wrapping). Columns keep their natural width when the table fits; else the widest
 * are narrowed and their cells wrap between values (wrap.ts), never inside one: no column gets
 * narrower than its widest uuid, timestamp or word. A table that cannot fit so is printed vertically,
 * one label/value table per row.
 */
export interface TableRows {
  head?: readonly string[];
  rows: readonly (readonly string[])[];
}

/** Below this many characters a wrapped column stops being readable: go vertical instead. */
const MIN_COLUMN = 10;

/** No rule between body rows: long tables stay readable. */
const COMPACT_ROWS = { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' };

export function renderTable(table: TableRows, width: number): string {
  const widths = columnWidths(table, width);
  if (widths === null) return verticalTables(table, width);
  const box = new Table({
    chars: COMPACT_ROWS,
    style: { head: [], border: [] },
    ...(table.head ? { head: table.head.map((h, i) => wrapText(h, widths[i]!)) } : {}),
  });
  for (const row of table.rows) box.push(row.map((cell, i) => wrapText(cell, widths[i]!)));
  return box.toString();
}

/** True when the table fits `width` as a table, not as one card per row. */
export function fitsAsTable(table: TableRows, width: number): boolean {
  return columnWidths(table, width) !== null;
}

/**
 * Each column's width: natural when the table fits; else the widest columns capped alike, none below
 * its widest atom nor (with a head and more than two columns) below MIN_COLUMN unless its values are
 * narrower. Null when even that does not fit; a table without a head then overflows rather than break a value.
 */
function columnWidths(table: TableRows, width: number): number[] | null {
  const count = Math.max(table.head?.length ?? 0, ...table.rows.map((row) => row.length));
  const cells = (i: number) => [...(table.head === undefined ? [] : [table.head[i] ?? '']), ...table.rows.map((row) => row[i] ?? '')];
  const natural = Array.from({ length: count }, (_, i) => Math.max(1, ...cells(i).map(widestLine)));
  // each column costs its content, one space either side and one border; plus the closing border
  const available = width - 3 * count - 1;
  if (sum(natural) <= available) return natural;
  const readable = table.head !== undefined && count > 2 ? MIN_COLUMN : 1;
  // a heading may wrap down to its longest word; the values below it stay readable
  const body = (i: number) => Math.max(1, ...table.rows.map((row) => widestLine(row[i] ?? '')));
  const least = natural.map((_, i) => Math.max(Math.min(body(i), readable), ...cells(i).map(widestAtom)));
  if (sum(least) > available) return table.head === undefined ? least : null;
  const capped = (cap: number) => natural.map((n, i) => Math.max(least[i]!, Math.min(n, cap)));
  let cap = Math.max(...natural);
  while (sum(capped(cap)) > available) cap--;
  const widths = capped(cap);
  let spare = available - sum(widths);
  for (let i = 0; spare > 0 && i < widths.length; i++) {
    const extra = Math.min(spare, natural[i]! - widths[i]!);
    widths[i]! += extra;
    spare -= extra;
  }
  return widths;
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/** One label/value table per row, separated by a blank line. */
function verticalTables(table: TableRows, width: number): string {
  const head = table.head ?? [];
  return table.rows.map((row) => renderTable({ rows: row.map((cell, i) => [head[i] ?? '', cell]) }, width)).join('\n\n');
}
