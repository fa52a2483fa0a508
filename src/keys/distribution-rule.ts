import { distributionColumn } from '../db/distribution.js';
import type { ResolvedKey } from './key-definition.js';

/**
 * Citus' rule for unique indexes on a distributed table: each shard checks
 * only its own rows, so an index can be unique across the cluster only when
 * it includes the distribution column itself (rows equal on it sit on the
 * same shard). A normalised column is an expression, not the column.
 * Returns the distribution column when `key` breaks the rule, else null
 * (also for reference and local tables, which have no such rule).
 */
export function missingDistributionColumn(key: ResolvedKey): string | null {
  const column = distributionColumn(key.table.info.distribution);
  if (column === null) return null;
  return key.columns.some((c) => c.column === column && c.normalize === null) ? null : column;
}

/**
 * The distribution column when every group of `key` lies on one shard: a
 * hash-distributed table and a key holding that column as it is (the rule
 * of Citus' unique indexes, missingDistributionColumn); null otherwise.
 * Such a key is grouped whole on each shard, and clean cuts its batches by
 * shard (src/clean/sql/shard-pin-sql.ts).
 */
export function shardAlignedColumn(key: ResolvedKey): string | null {
  const column = distributionColumn(key.table.info.distribution);
  if (column === null || key.table.info.distribution?.method !== 'hash') return null;
  return missingDistributionColumn(key) === null ? column : null;
}
