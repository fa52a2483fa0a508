import Table from 'cli-table3';

/** 8069 → "8,069" */
export function formatCount(value: number): string {
  return value.toLocaleString('en-US');
}

export function formatDuration(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** No rule between body rows: long tables stay readable. */
const COMPACT_ROWS = { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' };

/** A cli-table3 table without colour codes, so piped output stays plain text. */
export function plainTable(options: ConstructorParameters<typeof Table>[0] = {}): InstanceType<typeof Table> {
  return new Table({ chars: COMPACT_ROWS, ...options, style: { head: [], border: [], ...options.style } });
}

export function formatValue(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}
