import Table from 'cli-table3';

/**
 * Every table the tool prints goes through here, so each one fits the terminal: columns keep
 * their natural width when the table fits, long cells wrap at spaces (a word longer than its
 * column is broken, never cut), and a table with too many columns to leave each a readable
 * width is printed vertically instead, one small label/value table per row.
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
  const columns = Math.max(table.head?.length ?? 0, ...table.rows.map((row) => row.length));
  const all = table.head === undefined ? table.rows : [table.head, ...table.rows];
  const natural = Array.from({ length: columns }, (_, i) => Math.max(1, ...all.map((row) => longestLine(row[i] ?? ''))));
  // each column costs its content, one space either side and one border; plus the closing border
  const available = width - 3 * columns - 1;
  const widths = fitWidths(natural, available, table.head !== undefined && columns > 2 ? MIN_COLUMN : 1);
  if (widths === null) return verticalTables(table, width);
  const box = new Table({
    chars: COMPACT_ROWS,
    style: { head: [], border: [] },
    ...(table.head ? { head: table.head.map((h, i) => wrapText(h, widths[i]!)) } : {}),
  });
  for (const row of table.rows) box.push(row.map((cell, i) => wrapText(cell, widths[i]!)));
  return box.toString();
}

/** Natural widths when they fit; else the widest columns are narrowed to a common cap (null: below `minimum`). */
function fitWidths(natural: number[], available: number, minimum: number): number[] | null {
  if (natural.reduce((a, b) => a + b, 0) <= available) return natural;
  let cap = Math.max(...natural);
  while (cap > 0 && natural.reduce((sum, n) => sum + Math.min(n, cap), 0) > available) cap--;
  if (cap < minimum) return null;
  const widths = natural.map((n) => Math.min(n, cap));
  let spare = available - widths.reduce((a, b) => a + b, 0);
  for (let i = 0; spare > 0 && i < widths.length; i++) {
    const extra = Math.min(spare, natural[i]! - widths[i]!);
    widths[i]! += extra;
    spare -= extra;
  }
  return widths;
}

/** One label/value table per row, separated by a blank line. */
function verticalTables(table: TableRows, width: number): string {
  const head = table.head ?? [];
  return table.rows.map((row) => renderTable({ rows: row.map((cell, i) => [head[i] ?? '', cell]) }, width)).join('\n\n');
}

function longestLine(text: string): number {
  return Math.max(...text.split('\n').map((line) => line.length));
}

/** Wraps at spaces to `width`; a longer word is broken across lines, so nothing is ever cut. */
export function wrapText(text: string, width: number, indent = ''): string {
  return text
    .split('\n')
    .flatMap((line) => wrapLine(line, Math.max(1, width), indent))
    .join('\n');
}

function wrapLine(line: string, width: number, indent: string): string[] {
  if (line.length <= width) return [line];
  const lead = /^ */.exec(line)![0];
  const next = indent.length < width ? indent : '';
  const lines: string[] = [];
  let current = lead;
  for (const word of line.slice(lead.length).split(/ +/)) {
    const candidate = current.trim() === '' ? current + word : `${current} ${word}`;
    if (candidate.length <= width) {
      current = candidate;
      continue;
    }
    if (current.trim() !== '') lines.push(current);
    current = next + word;
    while (current.length > width) {
      lines.push(current.slice(0, width));
      current = next + current.slice(width);
    }
  }
  lines.push(current);
  return lines;
}

/**
 * Report text made to fit: tables already do; a longer line of prose wraps with its indent plus two. A
 * command to paste (a line of its own, `  lead-dedupe …`, `  npx lead-dedupe …` as `invocation` says) and
 * an indented SQL statement (ending in `;`) are never cut: the terminal's own wrapping keeps them whole
 * when they are copied.
 */
export function fitLines(text: string, width: number, invocation = 'lead-dedupe'): string {
  const pasted = (line: string) => line.startsWith(`  ${invocation} `) || /^ +\S.*;$/.test(line);
  return text
    .split('\n')
    .map((line) => (line.length <= width || pasted(line) ? line : wrapText(line, width, `${/^ */.exec(line)![0]}  `)))
    .join('\n');
}
