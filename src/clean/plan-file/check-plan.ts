import type { Database } from '../../db/database.js';
import { rowNumber } from '../../db/row-numbers.js';
import { requireTempTables } from '../../db/read-only.js';
import { rehearse } from '../../db/transaction.js';
import { timeoutsStatement } from '../sql/session-sql.js';
import { planStatesQuery, staleSampleQuery } from './plan-check-sql.js';
import { fingerprintSettingsStatement } from './plan-fingerprint-sql.js';
import { dropPlanTablesStatement } from './plan-load-sql.js';
import { loadCleanContext } from '../context.js';
import type { CleanOptions, SkippedGroup } from '../types.js';
import { loadPlan } from './load-plan.js';
import { requirePlanMergeColumns } from './plan-match.js';
import type { PlanApplySummary } from '../types.js';
import { emptySummary } from './plan-run.js';
import type { OpenedPlan } from './read-plan.js';
import { findNewRows, markDoneGroups } from './stage-plan.js';

/** `clean --plan <file>` without --execute: how much of the plan still holds. */
export interface PlanCheck extends PlanApplySummary {
  table: string;
  key: string;
  keep: string;
  mode: string;
  /** Groups whose every planned row is unchanged: --execute would apply them as planned. */
  unchanged: number;
  /** The rows --execute would remove from those. */
  rowsToRemove: number;
  /** The first stale groups (file order), with why. */
  staleSample: SkippedGroup[];
  durationMs: number;
}

/**
 * Reads and checks the plan as --execute would (same refusals), then
 * compares every planned row with its current version, without locking or
 * changing anything (the plan is loaded into temp tables of the session, in
 * a transaction rolled back at the end). Child-key conflicts are only known
 * under --execute's locks and are not counted here.
 */
export async function checkPlan(database: Database, options: CleanOptions, plan: OpenedPlan): Promise<PlanCheck> {
  const started = performance.now();
  requireTempTables(database, 'checking a plan (clean --plan without --execute)');
  const context = await loadCleanContext(database, options);
  requirePlanMergeColumns(plan, context.mergeColumns);
  const { key } = options;
  return database.db.connection().execute(async (connection) => {
    await timeoutsStatement(options.lockTimeoutMs, options.statementTimeoutMs, 'session').execute(connection);
    try {
      const loaded = await loadPlan(connection, key, plan);
      const summary = emptySummary(plan, loaded);
      await markDoneGroups(connection, options, summary);
      summary.newRows = await findNewRows(connection, key);
      const { states, stale } = await rehearse(connection, async () => {
        await fingerprintSettingsStatement().execute(connection);
        const states = (await planStatesQuery(key.table).execute(connection)).rows[0];
        const stale = (await staleSampleQuery(key.table).execute(connection)).rows;
        return { states, stale };
      });
      summary.staleChanged = rowNumber(states?.changed, 'changed');
      summary.staleGone = rowNumber(states?.gone, 'gone');
      return {
        ...summary,
        table: `${key.table.info.schema}.${key.table.info.name}`,
        key: key.name,
        keep: options.keep,
        mode: options.mode,
        unchanged: rowNumber(states?.unchanged, 'unchanged'),
        rowsToRemove: rowNumber(states?.rows_to_remove, 'rows_to_remove'),
        staleSample: stale.map((row) => ({ groupId: row.group_id, reason: row.reason })),
        durationMs: Math.round(performance.now() - started),
      };
    } finally {
      await dropPlanTablesStatement()
        .execute(connection)
        .catch(() => undefined);
    }
  });
}
