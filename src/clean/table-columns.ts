import type { ColumnInfo } from '../db/catalog.js';
import type { ResolvedKey } from '../keys/key-definition.js';

/**
 * Columns a merge may fill: never the id, the created time, a key column or
 * a computed column. Array columns are left alone too: array_agg over them
 * would build a two-dimensional array, not a list of donor values.
 */
export function mergeableColumns(key: ResolvedKey, columns: ColumnInfo[]): ColumnInfo[] {
  const fixed = new Set([key.table.idColumn, key.table.createdColumn, ...key.columns.map((c) => c.column)]);
  return columns.filter((c) => !fixed.has(c.name) && !c.generated && c.identity === '' && !c.type.endsWith('[]'));
}

/** Columns a restore writes back: everything but computed columns. */
export function insertableColumns(columns: ColumnInfo[]): ColumnInfo[] {
  return columns.filter((c) => !c.generated);
}
