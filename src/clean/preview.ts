import type { Database } from '../db/database.js';
import { rowNumber } from '../db/row-numbers.js';
import { qualifiedName } from '../db/catalog.js';
import { describeNormalize } from '../keys/key-summary.js';
import { loadCleanContext, type CleanContext } from './context.js';
import type { CleanOptions, CleanPlan, ChildCount } from './types.js';
import { cleanDryRunQuery, type DryRunSettings } from './sql/preview-sql.js';
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
  const { context, missing, settings } = await startDryRun(database, options);
  const { key } = options;
  const row = (await cleanDryRunQuery({ ...settings, sampleGroups: options.sampleGroups }).execute(database.db)).rows[0]!;
  const childRows: ChildCount[] = context.references.map((reference, index) => ({
    table: `${reference.schema}.${reference.table}`,
    constraint: reference.constraint,
    column: reference.column,
    rows: rowNumber(row.child_rows[index], 'child_rows'),
  }));
  return {
    ...describeClean(options, context),
    groups: rowNumber(row.groups, 'groups'),
    rowsToRemove: rowNumber(row.victims, 'victims'),
    keepersToMerge: rowNumber(row.keepers_to_merge, 'keepers_to_merge'),
    childRows,
    skippedGroups: rowNumber(row.skipped_groups, 'skipped_groups'),
    skipped: row.skipped,
    batches: rowNumber(row.batches, 'batches'),
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

/** What the dry run and the plan export both start from: the catalog's context, the query settings, and the rights --execute would need. */
export async function startDryRun(
  database: Database,
  options: CleanOptions,
): Promise<{ context: CleanContext; missing: string[]; settings: Omit<DryRunSettings, 'sampleGroups'> }> {
  const context = await loadCleanContext(database, options);
  const { key } = options;
  const missing = await missingPrivileges(database.db, {
    table: key.table,
    references: context.references,
    archiveSchema: options.archiveSchema,
    mode: options.mode,
  });
  const settings = {
    key,
    keep: options.keep,
    batchSize: options.batchSize,
    batchRows: options.batchRows,
    maxGroups: options.maxGroups,
    references: context.references,
    mergeColumns: context.mergeColumns,
  };
  return { context, missing, settings };
}

/** The clean-up a report describes, apart from its counts. */
export function describeClean(
  options: CleanOptions,
  context: CleanContext,
): Pick<
  CleanPlan,
  'table' | 'key' | 'columns' | 'normalize' | 'nullsEqual' | 'keep' | 'keeperOrder' | 'mode' | 'mergeRules' | 'mergeColumns' | 'batchSize' | 'batchRows'
> {
  const { key } = options;
  return {
    table: qualifiedName(key.table.info),
    key: key.name,
    columns: key.columns.map((c) => c.column),
    normalize: describeNormalize(key),
    nullsEqual: key.nullsEqual,
    ...describePolicy(options, context),
  };
}

/** How the clean-up decides and batches (keep policy, mode, merge rules, batch size): the report and the plan's header both carry it. */
export function describePolicy(
  options: CleanOptions,
  context: CleanContext,
): Pick<CleanPlan, 'keep' | 'keeperOrder' | 'mode' | 'mergeRules' | 'mergeColumns' | 'batchSize' | 'batchRows'> {
  return {
    keep: options.keep,
    keeperOrder: describeKeeperOrder(options.keep, options.key.table),
    mode: options.mode,
    mergeRules: options.mergeRules,
    mergeColumns: context.mergeColumns.map((c) => `${c.name}=${c.rule}`),
    batchSize: options.batchSize,
    batchRows: options.batchRows,
  };
}
