import type { Database } from '../../db/database.js';
import { toNumber } from '../../db/database.js';
import { qualifiedName } from '../../db/catalog.js';
import { childRowsToMoveQuery, dropStageStatement, sampleGroupsQuery, stageStatements, stageSummaryQuery } from '../../sql/clean-plan.js';
import { donorsStatement, keepersToMergeQuery, mergeValuesStatement } from '../../sql/merge-plan.js';
import { describeNormalize } from '../../keys/key-summary.js';
import { loadCleanContext } from './clean-context.js';
import type { CleanOptions, CleanPlan, ChildCount } from './clean-types.js';
import { selectBatch } from './batch.js';
import { rehearse } from '../../db/transaction.js';
import { missingPrivileges } from './permissions.js';
import { unindexedChildKeys } from './foreign-keys.js';

export interface CleanPlanWithChecks extends CleanPlan {
  /** Rights --execute would need and this user lacks (empty = fine). */
  missingPrivileges: string[];
}

/**
 * The dry run: the same staging, ranking and child checks that --execute
 * runs, over all groups at once, in a transaction that is rolled back. It
 * takes no row locks and changes nothing (it does not even create the
 * archive); concurrent writes may make --execute differ slightly.
 */
export async function planClean(database: Database, options: CleanOptions): Promise<CleanPlanWithChecks> {
  const started = performance.now();
  const context = await loadCleanContext(database, options);
  const { key } = options;
  const missing = await missingPrivileges(database.db, { table: key.table, references: context.references, archiveSchema: options.archiveSchema, mode: options.mode });
  return database.db.connection().execute(async (connection) => {
    try {
      for (const statement of stageStatements(key, options.batchSize, options.batchRows, options.maxGroups)) await statement.execute(connection);
      const stage = (await stageSummaryQuery().execute(connection)).rows[0];
      return await rehearse(connection, async () => {
        const selection = await selectBatch(connection, context, null, false);
        let keepersToMerge = 0;
        if (context.mergeColumns.length > 0) {
          await donorsStatement(key, null).execute(connection);
          await mergeValuesStatement(key.table, context.mergeColumns).execute(connection);
          keepersToMerge = toNumber((await keepersToMergeQuery(key.table, context.mergeColumns).execute(connection)).rows[0]?.n);
        }
        const childRows: ChildCount[] = [];
        for (const reference of context.references) {
          const rows = toNumber((await childRowsToMoveQuery(reference, key.table.idColumn).execute(connection)).rows[0]?.n);
          childRows.push({ table: `${reference.schema}.${reference.table}`, constraint: reference.constraint, column: reference.column, rows });
        }
        const sample = (await sampleGroupsQuery(options.sampleGroups).execute(connection)).rows.map((row) => ({
          groupId: row.group_id,
          key: Object.fromEntries(key.columns.map((c, index) => [c.column, row.key_values[index] ?? null])),
          keeper: row.keeper,
          losers: row.losers ?? [],
        }));
        return {
          table: qualifiedName(key.table.info),
          key: key.name,
          columns: key.columns.map((c) => c.column),
          normalize: describeNormalize(key),
          nullsEqual: key.nullsEqual,
          keep: options.keep,
          mode: options.mode,
          mergeRules: options.mergeRules,
          mergeColumns: context.mergeColumns.map((c) => `${c.name}=${c.rule}`),
          groups: selection.groups,
          rowsToRemove: selection.victims,
          keepersToMerge,
          childRows,
          skippedGroups: selection.skipped.length,
          skipped: selection.skipped.slice(0, 20),
          batches: toNumber(stage?.batches),
          batchSize: options.batchSize,
          batchRows: options.batchRows,
          sample,
          missingPrivileges: missing,
          unindexedChildKeys: unindexedChildKeys(context.references),
          durationMs: Math.round(performance.now() - started),
        };
      });
    } finally {
      await dropStageStatement().execute(connection).catch(() => undefined);
    }
  });
}
