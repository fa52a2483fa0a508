import { qualifiedName } from '../../db/catalog.js';
import { LeadDedupeError, UsageError } from '../../errors.js';
import { missingDistributionColumn } from '../../keys/distribution-rule.js';
import type { ResolvedKey } from '../../keys/key-definition.js';
import { resolveKeys, type KeySettings } from '../../keys/resolve-key.js';

const NO_SETTINGS: KeySettings = { columnMap: {}, normalize: {}, defaultCountry: null, nullsEqual: false, customKeys: [] };

/**
 * constraint add's first check on a Citus distributed table, right after
 * the table and key are read and before any index lookup or scan (and sql
 * upsert's, whose ON CONFLICT needs that index): a key without the distribution column can never be a unique index
 * there (Citus would fail the build with "creating unique
 * indexes on non-partition columns is currently unsupported"), so it is
 * refused with exit 2, naming the column and the presets and config keys
 * (under `settings`: the same column map and normalisation) that include it.
 */
export function requireDistributionColumn(key: ResolvedKey, settings: KeySettings = NO_SETTINGS, command = 'constraint add'): void {
  const column = missingDistributionColumn(key);
  if (column === null) return;
  const normalised = key.columns.some((c) => c.column === column && c.normalize !== null);
  const fitting = keysHolding(key, settings);
  const table = qualifiedName(key.table.info);
  throw new UsageError(
    `${command} refuses key ${key.name} (${key.columns.map((c) => c.column).join(', ')}) on ${table}: ${table} is a Citus table distributed by ${column}, ` +
      `and Citus can only enforce a unique index that includes the distribution column itself (each shard checks its own rows; rows equal on ${column} share a shard)` +
      (normalised ? `; here ${column} is normalised, an expression, not the column` : '') +
      `; keys that include ${column}: ${fitting.length > 0 ? fitting.join(', ') : 'none of the presets or config keys'} (or list columns with it, e.g. --key ${column},…)`,
  );
}

/** The presets and config keys this table can hold that include the distribution column. */
function keysHolding(key: ResolvedKey, settings: KeySettings): string[] {
  try {
    return resolveKeys(key.table, [], settings)
      .keys.filter((candidate) => missingDistributionColumn(candidate) === null)
      .map((candidate) => candidate.name);
  } catch (error) {
    // settings that resolve no key (e.g. a --normalize no preset uses) just mean none to suggest
    if (error instanceof LeadDedupeError) return [];
    throw error;
  }
}

/**
 * constraint add's second Citus check: CREATE UNIQUE INDEX on a distributed
 * or reference table is also built on the coordinator's own copy, so rows
 * left there from before the table was distributed (invisible to every
 * query, scan included) would fail the build with duplicates no scan can
 * show. Removing them is the DBA's call, so this only says how.
 */
export function requireNoCoordinatorLeftover(key: ResolvedKey): void {
  const distribution = key.table.info.distribution;
  if (distribution === null || distribution.coordinatorLeftoverBytes === 0) return;
  const table = qualifiedName(key.table.info);
  throw new UsageError(
    `constraint add refuses ${table}: the coordinator still holds ${megabytes(distribution.coordinatorLeftoverBytes)} of its rows from before it became a Citus ${distribution.kind} table ` +
      `(invisible to queries, so scan does not count them, but a unique index is built on them too and their old duplicates would fail it); ` +
      `once you no longer need them, remove them with: select truncate_local_data_after_distributing_table('${table}');`,
  );
}

/** e.g. "2.4 MB" (relation sizes are whole 8 kB pages, so never 0.0). */
function megabytes(bytes: number): string {
  return `${(bytes / 1_048_576).toFixed(1)} MB`;
}
