import type { LeadTable } from '../keys/key-definition.js';
import { rowOrder } from '../keys/row-order.js';
import { UsageError } from '../errors.js';
import type { CleanMode, KeepPolicy } from './types.js';

/**
 * What ranks the rows of a group for --keep, in words (the dry run shows it,
 * so a table without a created column cannot silently keep by id).
 * Mirrors keeperOrder() in sql/sql/lock-and-rank-sql.ts.
 */
export function describeKeeperOrder(keep: KeepPolicy, table: LeadTable): string {
  const { createdColumn: created, idColumn: id } = table;
  const byAge = (direction: 'oldest' | 'newest') => {
    const end = direction === 'oldest' ? 'lowest' : 'highest';
    if (created !== null) return `${created} ${direction} first, then ${end} ${id}`;
    return `${end} ${id} first (${table.createdFallback ?? 'no created column'})`;
  };
  switch (keep) {
    case 'oldest':
      return byAge('oldest');
    case 'newest':
      return byAge('newest');
    case 'most-complete':
      return `most non-empty columns, then ${byAge('oldest')}`;
    default:
      return keep satisfies never;
  }
}

/**
 * oldest/newest (the keeper, and in merge mode the donors) need an order that
 * means age. Without a created column, a uuid or text id would pick the
 * "oldest" row at random: refused (exit 2) rather than done silently.
 * `--keep most-complete --mode delete` ranks by content and only breaks ties
 * by the id, so it stays allowed.
 */
export function requireAgeOrder(options: { keep: KeepPolicy; mode: CleanMode }, table: LeadTable): void {
  const byAge = options.keep !== 'most-complete' || options.mode === 'merge';
  const order = rowOrder(table);
  if (!byAge || !order.arbitrary) return;
  const asked = options.keep === 'most-complete' ? '--mode merge (it fills columns from the newest rows)' : `--keep ${options.keep}`;
  throw new UsageError(
    `${asked} needs rows ordered by age, but ${order.reason}, whose order says nothing about age: the kept row would be arbitrary; ` +
      'name a date/time column with --created-column, or use --keep most-complete --mode delete',
  );
}
