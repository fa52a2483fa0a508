import type { Database } from '../../db/database.js';
import { toNumber } from '../../db/database.js';
import { qualifiedName } from '../../db/catalog.js';
import { describeNormalize } from '../../keys/key-summary.js';
import { loadCleanContext } from './clean-context.js';
import type { CleanOptions, CleanPlan, ChildCount } from './clean-types.js';
import { cleanDryRunQuery } from '../../sql/clean-dry-run.js';
import { missingPrivileges } from './permissions.js';
import { describeKeeperOrder } from './keeper-order.js';
import { unindexedChildKeys } from './foreign-keys.js';

export interface CleanPlanWithChecks extends CleanPlan {
  /** Rights --execute would need and this user lacks (empty = fine). */
  missingPrivileges: string[];
}

/**
 * The dry run: the same staging, ranking and child checks that --execute
 * runs, over all groups at once, as one read-only SELECT (CTEs where
 * --execute has temp tables), so it works on a hot standby too. It takes no
 * row locks and changes nothing (it does not even create the archive);
 * concurrent writes may make --execute differ slightly. Batches are counted
 * as --execute cuts them (groups and rows); a group too large for one batch
 * is counted whole, though --execute removes it in chunks.
 */
export async function planClean(database: Database, options: CleanOptions): Promise<CleanPlanWithChecks> {
  const started = performance.now();
  const context = await loadCleanContext(database, options);
  const { key } = options;
  const missing = await missingPrivileges(database.db, {
    table: key.table,
    references: context.references,
    archiveSchema: options.archiveSchema,
    mode: options.mode,
  });
  const row = (
    await cleanDryRunQuery({
      key,
      keep: options.keep,
      batchSize: options.batchSize,
      batchRows: options.batchRows,
      maxGroups: options.maxGroups,
      references: context.references,
      mergeColumns: context.mergeColumns,
      sampleGroups: options.sampleGroups,
    }).execute(database.db)
  ).rows[0]!;
  const childRows: ChildCount[] = context.references.map((reference, index) => ({
    table: `${reference.schema}.${reference.table}`,
    constraint: reference.constraint,
    column: reference.column,
    rows: toNumber(row.child_rows[index]),
  }));
  return {
    table: qualifiedName(key.table.info),
    key: key.name,
    columns: key.columns.map((c) => c.column),
    normalize: describeNormalize(key),
    nullsEqual: key.nullsEqual,
    keep: options.keep,
    keeperOrder: describeKeeperOrder(options.keep, key.table),
    mode: options.mode,
    mergeRules: options.mergeRules,
    mergeColumns: context.mergeColumns.map((c) => `${c.name}=${c.rule}`),
    groups: toNumber(row.groups),
    rowsToRemove: toNumber(row.victims),
    keepersToMerge: toNumber(row.keepers_to_merge),
    childRows,
    skippedGroups: toNumber(row.skipped_groups),
    skipped: row.skipped,
    batches: toNumber(row.batches),
    batchSize: options.batchSize,
    batchRows: options.batchRows,
    sample: row.sample.map((group) => ({
      groupId: group.group_id,
      key: Object.fromEntries(key.columns.map((c, index) => [c.column, group.key_values[index] ?? null])),
      keeper: group.keeper,
      losers: group.losers ?? [],
    })),
    missingPrivileges: missing,
    unindexedChildKeys: unindexedChildKeys(context.references),
    durationMs: Math.round(performance.now() - started),
  };
}
