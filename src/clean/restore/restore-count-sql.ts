import { sql, type RawBuilder } from 'kysely';
import type { LeadTable } from '../../keys/key-definition.js';
import { columnRef, tableRef } from '../../keys/key-sql.js';
import { archiveRef } from '../sql/archive-sql.js';
import { renamedColumnNames, renamedRow, type ColumnRename } from './restore-columns-sql.js';
import {
  keeperConflictsCountQuery,
  keeperConflictsQuery,
  keeperConflictsSampleQuery,
  archivedMovesQuery,
  restorableMergedColumn,
  stillMoved,
  type ConflictSummary,
  type KeeperRestore,
  type MovedTarget,
} from './restore-sql.js';

/**
 * The restore dry run on a read-only server (a hot standby cannot write even
 * in a transaction that is rolled back): plain SELECTs counting what each
 * statement of restore-sql.ts would change, with the same joins and
 * conditions. No row locks, no writes.
 */

/** Archived rows to put back, and how many of their ids are in the table again (the re-insert would fail on them). */
export function reinsertCountQuery(
  schema: string,
  table: LeadTable,
  runId: number,
  renames: ColumnRename[] = [],
): RawBuilder<{ n: string | number; present: string | number }> {
  return sql`select count(*) as n, count(t.${sql.id(table.idColumn)}) as present
from ${archiveRef(schema, 'lead_dedupe_removed')} as r
cross join lateral jsonb_populate_record(null::${tableRef(table)}, ${renamedRow(sql`r.row_data`, renames)}) as p
left join ${tableRef(table)} as t on ${columnRef(table.idColumn, 't')} = ${columnRef(table.idColumn, 'p')}
where r.run_id = ${runId}`;
}

/** The conflicts restore-sql.ts's keeperConflictsStatements materialises, as a CTE of the same name. */
const CONFLICTS_CTE = sql.id('ld_restore_conflicts');

function withConflicts(restore: KeeperRestore, query: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`with ${CONFLICTS_CTE} as materialized (${keeperConflictsQuery(restore)})
${query}`;
}

/**
 * The keepers restoreKeepersStatements would update: archived keepers still
 * in the table with at least one merged column restore may put back (all
 * with --force; else those still holding what the merge wrote).
 */
export function keepersToRestoreQuery(restore: KeeperRestore): RawBuilder<{ n: string | number }> {
  const { schema, table, runId } = restore;
  const renames = restore.renames ?? [];
  return withConflicts(
    restore,
    sql`select count(*) as n
from ${tableRef(table)} as t
where exists (select 1
              from ${archiveRef(schema, 'lead_dedupe_keepers')} as k
              cross join lateral jsonb_populate_record(null::${tableRef(table)}, ${renamedRow(sql`k.row_data`, renames)}) as p
              where k.run_id = ${runId} and ${columnRef(table.idColumn, 't')} = ${columnRef(table.idColumn, 'p')}
                and exists (select 1 from unnest(${renamedColumnNames(sql`k.merged_columns`, renames)}) as mc(name) where ${restorableMergedColumn(sql`mc.name`, restore, CONFLICTS_CTE)}))`,
  ) as RawBuilder<{ n: string | number }>;
}

/** The conflicts' count, as keeperConflictsCountQuery reads them from the temp table. */
export function keeperConflictsCountedQuery(restore: KeeperRestore): RawBuilder<ConflictSummary> {
  return withConflicts(restore, keeperConflictsCountQuery(CONFLICTS_CTE)) as RawBuilder<ConflictSummary>;
}

/** The first conflicts, as keeperConflictsSampleQuery lists them. */
export function keeperConflictsSampleCountedQuery(
  restore: KeeperRestore,
  limit: number,
): RawBuilder<{ keeper_id: string; column_name: string; current_value: string | null; unproven: boolean }> {
  return withConflicts(restore, keeperConflictsSampleQuery(limit, CONFLICTS_CTE)) as RawBuilder<{
    keeper_id: string;
    column_name: string;
    current_value: string | null;
    unproven: boolean;
  }>;
}

/**
 * The child rows moveBackStatement would move back (the read-only dry run's
 * count, which can create no temp table: the archived moves as a CTE).
 */
export function moveBackCountQuery(schema: string, target: Omit<MovedTarget, 'n'>, runId: number): RawBuilder<{ n: string | number }> {
  const child = sql.id(target.child_schema, target.child_table);
  return sql`with m as materialized (${archivedMovesQuery(schema, target, runId)})
select count(*) as n
from ${child} as c
join m on ${stillMoved(target)}`;
}
