import { sql, type RawBuilder } from 'kysely';
import type { LeadTable } from '../keys/key-definition.js';
import { columnRef, tableRef } from '../keys/key-sql.js';
import { archiveRef } from './archive-plan.js';

/**
 * The statements that undo a clean run, all inside one transaction (the
 * executor in core/clean/restore.ts): removed rows back with their ids,
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
where r.run_id > ${runId} and u.status <> 'restored'
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
export function reinsertRemovedStatement(schema: string, table: LeadTable, columns: string[], hasIdentity: boolean, runId: number): RawBuilder<unknown> {
  const targets = columns.map((column) => sql.id(column));
  const values = columns.map((column) => columnRef(column, 'p'));
  return sql`insert into ${tableRef(table)} (${sql.join(targets)})${hasIdentity ? sql` overriding system value` : sql``}
select ${sql.join(values)}
from ${archiveRef(schema, 'lead_dedupe_removed')} as r
cross join lateral jsonb_populate_record(null::${tableRef(table)}, r.row_data) as p
where r.run_id = ${runId}
order by p.${sql.id(table.idColumn)}`;
}

/** Puts back the columns the merge filled (only those), from the keeper's archived row. */
export function restoreKeepersStatement(schema: string, table: LeadTable, columns: string[], runId: number): RawBuilder<unknown> {
  const assignments = columns.map(
    (column) => sql`${sql.id(column)} = case when ${column}::text = any(k.merged_columns) then ${columnRef(column, 'p')} else ${columnRef(column, 't')} end`,
  );
  return sql`update ${tableRef(table)} as t
set ${sql.join(assignments)}
from ${archiveRef(schema, 'lead_dedupe_keepers')} as k
cross join lateral jsonb_populate_record(null::${tableRef(table)}, k.row_data) as p
where k.run_id = ${runId} and ${columnRef(table.idColumn, 't')} = ${columnRef(table.idColumn, 'p')}`;
}

export function keepersCountQuery(schema: string, runId: number): RawBuilder<{ n: string | number }> {
  return sql`select count(*) as n from ${archiveRef(schema, 'lead_dedupe_keepers')} where run_id = ${runId}`;
}

/** One row per child column the run moved rows of: the archive's own record of where they live. */
export interface MovedTarget {
  child_schema: string;
  child_table: string;
  column_name: string;
  pk_columns: string[];
  n: string | number;
}

export function movedTargetsQuery(schema: string, runId: number): RawBuilder<MovedTarget> {
  return sql`select child_schema, child_table, column_name, pk_columns, count(*) as n
from ${archiveRef(schema, 'lead_dedupe_moved')}
where run_id = ${runId}
group by 1, 2, 3, 4
order by 1, 2, 3`;
}

/**
 * Moves child rows back to the lead they referenced before the run, but
 * only rows that still point at the keeper they were moved to (a row the
 * application re-pointed since is left alone and counted as changed).
 */
export function moveBackStatement(schema: string, target: Omit<MovedTarget, 'n'>, runId: number): RawBuilder<unknown> {
  const child = sql.id(target.child_schema, target.child_table);
  const pk = target.pk_columns.map((column) => columnRef(column, 'c'));
  return sql`update ${child} as c
set ${sql.id(target.column_name)} = p.${sql.id(target.column_name)}
from ${archiveRef(schema, 'lead_dedupe_moved')} as m
cross join lateral jsonb_populate_record(null::${child}, jsonb_build_object(${target.column_name}::text, m.old_value)) as p
where m.run_id = ${runId} and m.child_schema = ${target.child_schema} and m.child_table = ${target.child_table}
  and m.column_name = ${target.column_name}
  and jsonb_build_array(${sql.join(pk)}) = m.child_pk
  and to_jsonb(${columnRef(target.column_name, 'c')}) = m.new_value`;
}

export function markRestoredStatement(schema: string, runId: number): RawBuilder<unknown> {
  // A run killed before it could record its end (SIGKILL, a lost connection) gets its finish time here at the latest.
  return sql`update ${archiveRef(schema, 'lead_dedupe_runs')} set status = 'restored', restored_at = clock_timestamp(), finished_at = coalesce(finished_at, clock_timestamp()) where id = ${runId}`;
}
