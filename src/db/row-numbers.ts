import { UnexpectedRowError } from '../errors.js';

/**
 * Numbers as result rows bring them (pg returns bigint and numeric as text), read once where a row comes back.
 * A NULL or a missing row where the statement must give a number is an error naming the column, never a silent
 * 0; where NULL means "none", nullableNumber says so in the type.
 */
export function rowNumber(value: unknown, column: string): number {
  const parsed = nullableNumber(value, column);
  if (parsed === null) throw new UnexpectedRowError(`the database returned no value for ${column}, where a number must be`, { column });
  return parsed;
}

/** A number, or null where the statement gives NULL for "none" (no open transaction, a parent-less table, …). */
export function nullableNumber(value: unknown, column: string): number | null {
  if (value === null || value === undefined) return null;
  const parsed = typeof value === 'number' ? value : typeof value === 'string' || typeof value === 'bigint' ? Number(value) : Number.NaN;
  if (!Number.isFinite(parsed))
    throw new UnexpectedRowError(`the database returned ${JSON.stringify(String(value))} for ${column}, where a number must be`, { column });
  return parsed;
}
