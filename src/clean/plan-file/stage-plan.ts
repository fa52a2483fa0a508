import type { Db } from '../../db/database.js';
import { rowNumber } from '../../db/row-numbers.js';
import { tableExists } from '../../db/catalog.js';
import type { ResolvedKey } from '../../keys/key-definition.js';
import { doneGroupsCountQuery, markDoneGroupsStatement, newRowsQuery, planStageStatements } from './plan-stage-sql.js';
import type { CleanOptions } from '../types.js';
import type { NewRows, PlanApplySummary } from '../types.js';

/**
 * The stage of a run that applies a plan: the groups an earlier run of the
 * same plan cleaned are set aside (already done), the rest cut into batches
 * (ld_stage, as clean's own stage), and the rows that joined a planned
 * group's key since are counted (they are left in place).
 */
export async function stagePlan(connection: Db, options: CleanOptions, summary: PlanApplySummary): Promise<void> {
  await markDoneGroups(connection, options, summary);
  for (const statement of planStageStatements(options.batchSize, options.batchRows)) await statement.execute(connection);
  summary.newRows = await findNewRows(connection, options.key);
}

/** Fills ld_plan_done (when the archive exists) and counts it. */
export async function markDoneGroups(connection: Db, options: CleanOptions, summary: PlanApplySummary): Promise<void> {
  if (!(await tableExists(connection, options.archiveSchema, 'lead_dedupe_runs'))) return;
  await markDoneGroupsStatement(options.archiveSchema, summary.id, options.key.table.info).execute(connection);
  summary.alreadyDone = rowNumber((await doneGroupsCountQuery().execute(connection)).rows[0]?.n, 'n');
}

export async function findNewRows(connection: Db, key: ResolvedKey): Promise<NewRows> {
  const { rows } = await newRowsQuery(key).execute(connection);
  // one row per sampled group, each carrying the totals; none when no group has new rows
  const first = rows[0];
  return {
    groups: first === undefined ? 0 : rowNumber(first.groups, 'groups'),
    rows: first === undefined ? 0 : rowNumber(first.rows, 'rows'),
    sample: rows.map((row) => ({ groupId: row.group_id, rows: rowNumber(row.n, 'n') })),
  };
}
