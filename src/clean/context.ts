import { distributionColumn } from '../db/distribution.js';
import type { Database } from '../db/database.js';
import type { MergeColumn } from './sql/merge-sql.js';
import type { ChildReference, CleanOptions } from './types.js';
import { loadChildReferences } from './foreign-keys.js';
import { requireUniqueIdColumn } from '../core/lead-table.js';
import { resolveMergeColumns } from './merge-columns.js';
import type { PlanRun } from './plan-file/plan-run.js';

/** What planClean and applyClean both derive from the catalog before any batch. */
export interface CleanContext {
  options: CleanOptions;
  references: ChildReference[];
  /** Empty in delete mode. */
  mergeColumns: MergeColumn[];
  /** `clean --plan`: the groups and keepers come from this plan, not from the current duplicates; null otherwise. */
  plan: PlanRun | null;
}

export async function loadCleanContext(database: Database, options: CleanOptions): Promise<CleanContext> {
  await requireUniqueIdColumn(database.db, options.key.table, 'clean');
  // A key column taken as it is (not normalised) holds one value across a group; under nulls-equal that value may be NULL, which a moved row never has.
  const sameInGroup = new Set(options.key.columns.filter((column) => column.normalize === null).map((column) => column.column));
  const references = await loadChildReferences(database, options.key.table, sameInGroup);
  // Never filled by merge: a self-reference, and a Citus distribution column (Citus cannot change it).
  const distribution = distributionColumn(options.key.table.info.distribution);
  const selfReferences = [...references.filter((r) => r.self).map((r) => r.column), ...(distribution === null ? [] : [distribution])];
  const mergeColumns = resolveMergeColumns(options.key, options.key.table.info.columns, options.mergeRules, selfReferences);
  return { options, references, mergeColumns: options.mode === 'merge' ? mergeColumns : [], plan: null };
}
