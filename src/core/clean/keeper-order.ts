import type { LeadTable } from '../../keys/key-definition.js';
import type { KeepPolicy } from './clean-types.js';

/**
 * What ranks the rows of a group for --keep, in words (the dry run shows it,
 * so a table without a created column cannot silently keep by id).
 * Mirrors keeperOrder() in sql/clean-plan.ts.
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
