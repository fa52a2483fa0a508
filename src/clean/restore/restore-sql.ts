import { sql, type RawBuilder } from 'kysely';
import { moveByCopyStatements } from '../sql/move-by-copy-sql.js';
import type { LeadTable } from '../../keys/key-definition.js';
import { columnRef, tableRef } from '../../keys/key-sql.js';
import { archiveRef } from '../sql/archive-sql.js';
import { sessionRows } from '../sql/temp-tables-sql.js';
import { renamedColumnNames, renamedRow, type ColumnRename } from './restore-columns-sql.js';

/**
 * The statements that undo a clean run, all inside one transaction (the
 * executor in restore.ts): removed rows back with their ids,
 * merged keepers' columns back, child rows back to the rows they left.
 */

export interface RunRow {
  id: string;
  status: string;
  table_name: string;
  started_at: string;
}

export function runForUpdateQuery(schema: string, runId: number): RawBuilder<RunRow> {
  return sql`select id::text as id, status, table_name, started_at::text as started_at
from ${archiveRef(schema, 'lead_dedupe_runs')} where id = ${runId} for update`;
}

/**
 * Later runs that are not restored and removed a row this run kept: undoing
 * this run alone would put its keepers' children back onto missing rows.
 */
export function laterRunsQuery(schema: string, runId: number): RawBuilder<{ run_id: string }> {
  const removed = archiveRef(schema, 'lead_dedupe_removed');
  return sql`select distinct r.run_id::text as run_id
from ${removed} as r
join ${archiveRef(schema, 'lead_dedupe_runs')} as u on u.id = r.run_id
where r.run_id > ${runId} and u.status not in ('restored', 'restored with conflicts')
  and r.row_id in (select keeper_id from ${removed} where run_id = ${runId})
order by 1`;
}

/**
 * Re-inserts the removed rows with their original ids and values;
 * OVERRIDING SYSTEM VALUE lets an identity column take the archived id.
 *
 *   insert into "public"."leads" ("id", "device_id", …) overriding system value
 *   select p."id", p."device_id", …
 *   from "lead_dedupe"."lead_dedupe_removed" as r
 *   cross join lateral jsonb_populate_record(null::"public"."leads", r.row_data) as p
 *   where r.run_id = $1
 */
export function reinsertRemovedStatement(
  { schema, runId }: { schema: string; runId: number },
  table: LeadTable,
  { columns, hasIdentity, renames = [] }: { columns: string[]; hasIdentity: boolean; renames?: ColumnRename[] },
): RawBuilder<unknown> {
  const targets = columns.map((column) => sql.id(column));
  const values = columns.map((column) => columnRef(column, 'p'));
  return sql`insert into ${tableRef(table)} (${sql.join(targets)})${hasIdentity ? sql` overriding system value` : sql``}
select ${sql.join(values)}
from ${archiveRef(schema, 'lead_dedupe_removed')} as r
cross join lateral jsonb_populate_record(null::${tableRef(table)}, ${renamedRow(sql`r.row_data`, renames)}) as p
where r.run_id = ${runId}
order by p.${sql.id(table.idColumn)}`;
}

/** What the keeper statements need to know: which merged columns restore may write, and how. */
export interface KeeperRestore {
  schema: string;
  table: LeadTable;
  /** The columns restore writes (by their names now). */
  columns: string[];
  runId: number;
  /** The archive recorded what the merge wrote (merged_data). */
  hasMergedData: boolean;
  force: boolean;
  /** Archived columns renamed since the clean (restore --map). */
  renames?: ColumnRename[];
  /**
   * The run was restored with conflicts before (restore --force finishes
   * it): only columns that do not hold their archived value yet are conflicts.
   */
  finishing?: boolean;
}

/** The conflicts of a restore, for one session: built by keeperConflictsStatements, read by restoreKeepersStatements. */
export const CONFLICTS = sql.id('pg_temp', 'ld_restore_conflicts');

/**
 * Merged keeper columns that restore must not put back on its own: the
 * column no longer holds what the merge wrote (the application changed it
 * since), or the archive predates the record of what the merge wrote
 * (`merged_data` NULL: "cannot prove unchanged"). Values compare as text in
 * this session, so types without an equality operator (json) and time zones
 * cannot make two equal values differ.
 *
 *   create temporary table ld_restore_conflicts on commit drop as
 *   select k.row_id as keeper_id, c.column_name, c.current_value, k.merged_data is null as unproven
 *   from "lead_dedupe"."lead_dedupe_keepers" as k
 *   cross join lateral jsonb_populate_record(null::"public"."leads", k.row_data) as p
 *   join "public"."leads" as t on t."id" = p."id"
 *   cross join lateral jsonb_populate_record(null::"public"."leads", coalesce(k.merged_data, '{}')) as w
 *   cross join lateral (values ('email', t."email"::text, w."email"::text), …) as c(column_name, current_value, merged_value)
 *   where k.run_id = 7 and c.column_name = any(k.merged_columns)
 *     and (k.merged_data is null or not k.merged_data ? c.column_name or c.current_value is distinct from c.merged_value)
 */
export function keeperConflictsStatements(restore: KeeperRestore): RawBuilder<unknown>[] {
  return [
    sql`create temporary table ld_restore_conflicts on commit drop as
${keeperConflictsQuery(restore)}`,
    sql`create index on ${CONFLICTS} (keeper_id, column_name)`,
    sql`analyze ${CONFLICTS}`,
  ];
}

/** ld_restore_conflicts' SELECT (the read-only restore dry run uses it as a CTE: restore-count-sql.ts). */
export function keeperConflictsQuery(restore: KeeperRestore): RawBuilder<unknown> {
  const { schema, table, columns, runId, hasMergedData } = restore;
  const renames = restore.renames ?? [];
  // After a rename (restore --map) the archived names are read under the names now: row, merged values and merged column list alike.
  const merged = hasMergedData ? renamedRow(sql`k.merged_data`, renames) : sql`null::jsonb`;
  // Finishing a restore with conflicts: the columns the first pass put back hold their archived value; only the others are left.
  const finishing = restore.finishing === true;
  const archivedValue = (column: string) => (finishing ? sql`, ${columnRef(column, 'p')}::text` : sql``);
  const values = columns.map((column) => sql`(${column}::text, ${columnRef(column, 't')}::text, ${columnRef(column, 'w')}::text${archivedValue(column)})`);
  const names = finishing ? sql`column_name, current_value, merged_value, archived_value` : sql`column_name, current_value, merged_value`;
  const left = finishing ? sql` and c.current_value is distinct from c.archived_value` : sql``;
  // The keepers' current rows are read first (a CTE: on Citus a distributed query of its own), so the rest runs on local rows.
  const keepers = archiveRef(schema, 'lead_dedupe_keepers');
  return sql`with t as materialized (
  select l.* from ${tableRef(table)} as l
  where ${columnRef(table.idColumn, 'l')} in (select (jsonb_populate_record(null::${tableRef(table)}, a.row_data)).${sql.id(table.idColumn)} from ${keepers} as a where a.run_id = ${runId}))
select k.row_id as keeper_id, c.column_name, c.current_value, ${merged} is null as unproven
from ${keepers} as k
cross join lateral jsonb_populate_record(null::${tableRef(table)}, ${renamedRow(sql`k.row_data`, renames)}) as p
join t on ${columnRef(table.idColumn, 't')} = ${columnRef(table.idColumn, 'p')}
cross join lateral jsonb_populate_record(null::${tableRef(table)}, coalesce(${merged}, '{}'::jsonb)) as w
cross join lateral (values ${sql.join(values)}) as c(${names})
where k.run_id = ${runId} and c.column_name = any(${renamedColumnNames(sql`k.merged_columns`, renames)})
  and (${merged} is null or not ${merged} ? c.column_name or c.current_value is distinct from c.merged_value)${left}`;
}

export interface ConflictSummary {
  total: string | number;
  unproven: string | number;
}

/** `conflicts`: ld_restore_conflicts, or the read-only dry run's CTE of the same rows. */
export function keeperConflictsCountQuery(conflicts: RawBuilder<unknown> = CONFLICTS): RawBuilder<ConflictSummary> {
  return sql`select count(*) as total, count(*) filter (where unproven) as unproven from ${conflicts}`;
}

/** The first conflicts, in id order, each current value cut to 60 characters. */
export function keeperConflictsSampleQuery(
  limit: number,
  conflicts: RawBuilder<unknown> = CONFLICTS,
): RawBuilder<{ keeper_id: string; column_name: string; current_value: string | null; unproven: boolean }> {
  return sql`select keeper_id, column_name,
       case when length(current_value) > 60 then left(current_value, 59) || '…' else current_value end as current_value, unproven
from ${conflicts}
order by length(keeper_id), keeper_id, column_name
limit ${sql.lit(limit)}`;
}

/**
 * A merged column of archived keeper k that restore puts back: always with
 * --force, else only while no conflict is recorded for it. Finishing a
 * restore with conflicts (--force), only the columns left: those recorded.
 */
export function restorableMergedColumn(
  name: RawBuilder<unknown>,
  restore: Pick<KeeperRestore, 'force' | 'finishing'>,
  conflicts: RawBuilder<unknown> = CONFLICTS,
): RawBuilder<unknown> {
  // IN over the whole list, not a correlated EXISTS: PostgreSQL hashes the conflicts once. The read-only dry run has them
  // as a CTE, without an index: the EXISTS scanned it for every keeper column (6,157 conflicts at 1M rows: 2.1 s against
  // 0.3 s; bench/README.md, B30).
  const recorded = sql`(k.row_id, ${name}) in (select x.keeper_id, x.column_name from ${conflicts} as x)`;
  if (restore.finishing) return recorded;
  return restore.force ? sql`true` : sql`not ${recorded}`;
}

/**
 * Puts back the columns the merge filled (only those), from the keeper's
 * archived row; without `force`, only the columns that still hold what the
 * merge wrote (no row in ld_restore_conflicts). Counts the keepers that got
 * at least one column back.
 */
export function restoreKeepersStatements(restore: KeeperRestore): RawBuilder<unknown>[] {
  const { schema, table, columns, runId } = restore;
  const renames = restore.renames ?? [];
  const mergedColumns = renamedColumnNames(sql`k.merged_columns`, renames);
  // What to put back is decided on local rows first (a temp table); the UPDATE then only reads plain columns of it, which Citus runs on a distributed table.
  const decided = columns.flatMap((column) => [
    sql`(${column}::text = any(${mergedColumns}) and ${restorableMergedColumn(sql`${column}::text`, restore)}) as ${sql.id(`back_${column}`)}`,
    sql`${columnRef(column, 'p')} as ${sql.id(`old_${column}`)}`,
  ]);
  const assignments = columns.map(
    (column) => sql`${sql.id(column)} = case when m.${sql.id(`back_${column}`)} then m.${sql.id(`old_${column}`)} else ${columnRef(column, 't')} end`,
  );
  return [
    sql`create temporary table ld_restore_keepers on commit drop as
select ${columnRef(table.idColumn, 'p')} as ld_keeper_id, ${sql.join(decided)}
from ${archiveRef(schema, 'lead_dedupe_keepers')} as k
cross join lateral jsonb_populate_record(null::${tableRef(table)}, ${renamedRow(sql`k.row_data`, renames)}) as p
where k.run_id = ${runId}
  and exists (select 1 from unnest(${mergedColumns}) as mc(name) where ${restorableMergedColumn(sql`mc.name`, restore)})`,
    sql`update ${tableRef(table)} as t
set ${sql.join(assignments)}
from ${sessionRows(sql.id('pg_temp', 'ld_restore_keepers'))} as m
where ${columnRef(table.idColumn, 't')} = m.ld_keeper_id`,
  ];
}

export function keepersCountQuery(schema: string, runId: number): RawBuilder<{ n: string | number }> {
  return sql`select count(*) as n from ${archiveRef(schema, 'lead_dedupe_keepers')} where run_id = ${runId}`;
}

/**
 * One row per foreign key the run moved rows of: the archive's own record
 * of where they live and which columns moved (a composite key can move
 * more than the id column; `column_name` lists them for people).
 */
export interface MovedTarget {
  child_schema: string;
  child_table: string;
  constraint_name: string;
  column_name: string;
  columns: string[];
  pk_columns: string[];
  n: string | number;
}

/** `n`: child rows (a row archived once per column it changed counts once). */
export function movedTargetsQuery(schema: string, runId: number): RawBuilder<MovedTarget> {
  return sql`select child_schema, child_table, constraint_name, string_agg(distinct column_name, ', ') as column_name,
       array_agg(distinct column_name) as columns, pk_columns, count(distinct child_pk) as n
from ${archiveRef(schema, 'lead_dedupe_moved')}
where run_id = ${runId}
group by child_schema, child_table, constraint_name, pk_columns
order by 1, 2, 3`;
}

/**
 * The archived moves of one target, one row per child row, typed as the
 * child's columns: its primary key after the move (pk_…), and the old
 * (old_…) and new (new_…) value of each column the move changed. Built
 * once per target in a temp table, so the statements on the child compare
 * plain typed columns (Citus runs no jsonb function on a distributed
 * table's columns inside an UPDATE).
 *
 *   create temporary table ld_move_back on commit drop as
 *   select pk."id" as "pk_id", o."lead_id" as "old_lead_id", n."lead_id" as "new_lead_id"
 *   from (select child_pk, jsonb_object_agg(column_name, old_value) as old_values, jsonb_object_agg(column_name, new_value) as new_values
 *         from "lead_dedupe"."lead_dedupe_moved" where run_id = 7 and … group by child_pk) as m
 *   cross join lateral jsonb_populate_record(null::"public"."notes", jsonb_build_object('id', m.child_pk->0)) as pk
 *   cross join lateral jsonb_populate_record(null::"public"."notes", m.old_values) as o
 *   cross join lateral jsonb_populate_record(null::"public"."notes", m.new_values) as n
 */
export function archivedMovesStatements(schema: string, target: Omit<MovedTarget, 'n'>, runId: number): RawBuilder<unknown>[] {
  return [
    sql`drop table if exists ${MOVE_BACK}`,
    sql`create temporary table ld_move_back on commit drop as
${archivedMovesQuery(schema, target, runId)}`,
  ];
}

/** ld_move_back's SELECT (the read-only dry run uses it as a CTE). */
export function archivedMovesQuery(schema: string, target: Omit<MovedTarget, 'n'>, runId: number): RawBuilder<unknown> {
  const child = sql.id(target.child_schema, target.child_table);
  const pkObject = target.pk_columns.map((column, index) => sql`${column}::text, m.child_pk->${sql.lit(index)}`);
  const columns = [
    ...target.pk_columns.map((column) => sql`pk.${sql.id(column)} as ${sql.id(`pk_${column}`)}`),
    ...target.columns.map((column) => sql`o.${sql.id(column)} as ${sql.id(`old_${column}`)}`),
    ...target.columns.map((column) => sql`n.${sql.id(column)} as ${sql.id(`new_${column}`)}`),
  ];
  return sql`select ${sql.join(columns)}
from (select child_pk, jsonb_object_agg(column_name, old_value) as old_values, jsonb_object_agg(column_name, new_value) as new_values
      from ${archiveRef(schema, 'lead_dedupe_moved')}
      where run_id = ${runId} and child_schema = ${target.child_schema} and child_table = ${target.child_table}
        and constraint_name = ${target.constraint_name} and pk_columns = ${target.pk_columns}::text[]
      group by child_pk) as m
cross join lateral jsonb_populate_record(null::${child}, jsonb_build_object(${sql.join(pkObject)})) as pk
cross join lateral jsonb_populate_record(null::${child}, m.old_values) as o
cross join lateral jsonb_populate_record(null::${child}, m.new_values) as n`;
}

export const MOVE_BACK = sql.id('pg_temp', 'ld_move_back');

/**
 * Restore's move back across Citus shards (move-by-copy-sql.ts, the same
 * move as clean's): each row that still holds what the move wrote goes back
 * to its archived old values.
 */
export function moveBackByCopyStatements(target: Omit<MovedTarget, 'n'>, distribution: string): RawBuilder<unknown>[] {
  return moveByCopyStatements({
    child: sql.id(target.child_schema, target.child_table),
    from: MOVE_BACK,
    rows: stillMoved(target),
    distribution,
    values: target.columns.map((column) => ({ column, value: sql`m.${sql.id(`old_${column}`)}` })),
    returnedAs: 'ld_old',
  });
}

/** The child row (c) is the archived one (m) and still holds every value the move wrote. */
export function stillMoved(target: Omit<MovedTarget, 'n'>): RawBuilder<unknown> {
  const pk = target.pk_columns.map((column) => sql`${columnRef(column, 'c')} = m.${sql.id(`pk_${column}`)}`);
  const values = target.columns.map((column) => sql`${columnRef(column, 'c')} is not distinct from m.${sql.id(`new_${column}`)}`);
  return sql.join([...pk, ...values], sql` and `);
}

/**
 * Moves child rows back to the lead they referenced before the run (every
 * column the move changed; after archivedMovesStatements), but only rows
 * that still hold what the move wrote (a row the application re-pointed
 * since is left alone and counted as changed).
 */
export function moveBackStatement(target: Omit<MovedTarget, 'n'>): RawBuilder<unknown> {
  const child = sql.id(target.child_schema, target.child_table);
  const assignments = target.columns.map((column) => sql`${sql.id(column)} = m.${sql.id(`old_${column}`)}`);
  return sql`update ${child} as c
set ${sql.join(assignments)}
from ${sessionRows(MOVE_BACK)} as m
where ${stillMoved(target)}`;
}

/** `status`: 'restored', or 'restored with conflicts' (merged keeper columns left alone; `message` says how to finish). */
export function markRestoredStatement(
  schema: string,
  runId: number,
  status: 'restored' | 'restored with conflicts' = 'restored',
  message: string | null = null,
): RawBuilder<unknown> {
  // A run killed before it could record its end (SIGKILL, a lost connection) gets its finish time here at the latest.
  return sql`update ${archiveRef(schema, 'lead_dedupe_runs')} set status = ${status}, restored_at = clock_timestamp(), finished_at = coalesce(finished_at, clock_timestamp())${
    message === null ? sql`` : sql`, message = ${message}`
  } where id = ${runId}`;
}
