import { DatabaseError } from '../errors.js';

/**
 * A count read from a result row, parsed once where the row arrives: int8
 * comes back as a string from pg and as a number or bigint from PGlite. A
 * NULL (or a missing row) is an error, never a silent 0: where NULL has a
 * meaning (max() over no rows), the caller says so before calling this.
 */
export function countOf(value: unknown, what: string): number {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return Number(value);
  throw new DatabaseError(`expected a count for ${what}, got ${value === null ? 'NULL' : value === undefined ? 'no row' : JSON.stringify(value)}`);
}

/** Rows a data-changing statement reports it changed (INSERT/UPDATE/DELETE). */
export function changedRows(result: { numAffectedRows?: bigint; numUpdatedOrDeletedRows?: bigint }): number {
  return Number(result.numAffectedRows ?? result.numUpdatedOrDeletedRows ?? 0);
}
