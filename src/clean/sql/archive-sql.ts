import { sql, type RawBuilder } from 'kysely';
import type { LeadTable } from '../../keys/key-definition.js';
import { columnRef, tableRef } from '../../keys/key-sql.js';
import type { BatchArchive, BatchScope, ChildReference, RunStatus } from '../model.js';
import { TEMP } from './temp-tables-sql.js';
import { WHOLE_BATCH } from './shard-pin-sql.js';
import { membersWithKeepers, movedColumns, movedRowValue, movedRowsCondition, movedRowsFrom } from './child-rows-sql.js';

/** The runs' status values (model.ts RunStatus), as the runs table checks them. */
const RUN_STATUS_CHECK = sql`status in ('running', 'done', 'failed', 'restored', 'interrupted', 'restored with conflicts')`;

/** The archive tables, in the tool's own schema (--archive-schema). */
export const ARCHIVE_TABLES = ['lead_dedupe_runs', 'lead_dedupe_removed', 'lead_dedupe_keepers', 'lead_dedupe_moved', 'lead_dedupe_skipped'] as const;
export type ArchiveTable = (typeof ARCHIVE_TABLES)[number];

export function archiveRef(schema: string, table: ArchiveTable): RawBuilder<unknown> {
  return sql.id(schema, table);
}

/**
 * Creates the archive on first use; never drops it. Every removed
 * row is kept whole as jsonb (to_jsonb), so a restore can rebuild it with
 * jsonb_populate_record whatever the table's columns are.
 */
export function archiveDdl(schema: string): RawBuilder<unknown>[] {
  const runs = archiveRef(schema, 'lead_dedupe_runs');
  return [
    sql`create schema if not exists ${sql.id(schema)}`,
    sql`create table if not exists ${runs} (
  id bigint generated always as identity primary key,
  started_at timestamptz not null default clock_timestamp(),
  finished_at timestamptz,
  status text not null constraint lead_dedupe_runs_status_check check (${RUN_STATUS_CHECK}),
  table_name text not null,
  table_schema text,
  table_relname text,
  key_name text not null,
  key_columns text[] not null,
  normalize jsonb not null,
  nulls_equal boolean not null,
  keep text not null,
  mode text not null,
  options jsonb not null,
  groups_planned bigint not null default 0,
  groups_done bigint not null default 0,
  rows_removed bigint not null default 0,
  rows_merged bigint not null default 0,
  groups_skipped bigint not null default 0,
  child_rows_moved jsonb not null default '{}',
  batches_done integer not null default 0,
  db_user text not null default current_user,
  client_host text not null default coalesce(host(inet_client_addr()), 'local'),
  backend_pid integer not null default pg_backend_pid(),
  message text,
  restored_at timestamptz
)`,
    sql`create table if not exists ${archiveRef(schema, 'lead_dedupe_removed')} (
  run_id bigint not null references ${runs} (id),
  batch_no integer not null,
  group_id text not null,
  keeper_id text not null,
  row_id text not null,
  row_data jsonb not null,
  primary key (run_id, row_id)
)`,
    sql`create table if not exists ${archiveRef(schema, 'lead_dedupe_keepers')} (
  run_id bigint not null references ${runs} (id),
  batch_no integer not null,
  group_id text not null,
  row_id text not null,
  merged_columns text[] not null,
  row_data jsonb not null,
  merged_data jsonb,
  primary key (run_id, row_id)
)`,
    sql`create table if not exists ${archiveRef(schema, 'lead_dedupe_moved')} (
  run_id bigint not null references ${runs} (id),
  batch_no integer not null,
  child_schema text not null,
  child_table text not null,
  constraint_name text not null,
  column_name text not null,
  pk_columns text[] not null,
  child_pk jsonb not null,
  old_value jsonb not null,
  new_value jsonb not null
)`,
    sql`create index if not exists lead_dedupe_moved_run_idx on ${archiveRef(schema, 'lead_dedupe_moved')} (run_id)`,
    sql`create table if not exists ${archiveRef(schema, 'lead_dedupe_skipped')} (
  run_id bigint not null references ${runs} (id),
  batch_no integer not null,
  group_id text not null,
  reason text not null
)`,
    sql`create index if not exists lead_dedupe_skipped_run_idx on ${archiveRef(schema, 'lead_dedupe_skipped')} (run_id)`,
  ];
}

/**
 * Upgrades an archive made by an earlier version, only with the statements
 * `state` says are missing (an ALTER takes an exclusive lock, and needs the
 * table's owner even when the column is already there):
 * - a runs table that recorded the table only as schema.name text
 *   (ambiguous when the schema holds a dot): adds the two columns and fills
 *   them for the old runs, from the catalog when a table of that qualified
 *   name exists, else by splitting at the first dot;
 * - a keepers table without `merged_data` (what the merge wrote into each
 *   filled column, read back after the merge: restore only puts a column
 *   back while it still holds that value): adds the column; archived
 *   keepers of older runs keep NULL there (restore cannot prove them unchanged).
 */
export function archiveUpgradeStatements(schema: string, state: ArchiveState = { runs_up_to_date: false, keepers_up_to_date: false }): RawBuilder<unknown>[] {
  const runs = archiveRef(schema, 'lead_dedupe_runs');
  const statements: RawBuilder<unknown>[] = [];
  if (!state.runs_up_to_date) {
    statements.push(
      sql`alter table ${runs} add column if not exists table_schema text, add column if not exists table_relname text`,
      sql`update ${runs} as r
set table_schema = coalesce(m.schema, split_part(r.table_name, '.', 1)),
    table_relname = coalesce(m.name, substr(r.table_name, strpos(r.table_name, '.') + 1))
from ${runs} as o
left join lateral (
  select n.nspname::text as schema, c.relname::text as name
  from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  where n.nspname || '.' || c.relname = o.table_name and c.relkind in ('r', 'p')
  order by n.nspname
  limit 1) as m on true
where o.id = r.id and r.table_schema is null`,
    );
  }
  if (!state.keepers_up_to_date) {
    statements.push(sql`alter table ${archiveRef(schema, 'lead_dedupe_keepers')} add column if not exists merged_data jsonb`);
  }
  if (state.statuses_up_to_date === false) statements.push(runStatusUpgradeStatement(schema));
  return statements;
}

/** Which parts of the archive already have what archiveUpgradeStatements adds (false also when the table is missing). */
export interface ArchiveState {
  runs_up_to_date: boolean;
  keepers_up_to_date: boolean;
  /** false: the runs table's status check predates 'restored with conflicts'. */
  statuses_up_to_date?: boolean;
}

/** The status check of an archive from before 'restored with conflicts', replaced by today's. */
export function runStatusUpgradeStatement(schema: string): RawBuilder<unknown> {
  return sql`alter table ${archiveRef(schema, 'lead_dedupe_runs')} drop constraint if exists lead_dedupe_runs_status_check,
  add constraint lead_dedupe_runs_status_check check (${RUN_STATUS_CHECK})`;
}

export function archiveUpToDateQuery(schema: string): RawBuilder<ArchiveState> {
  const has = (table: ArchiveTable, column: string) => sql`exists (
  select 1
  from pg_catalog.pg_attribute a
  join pg_catalog.pg_class c on c.oid = a.attrelid
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  where n.nspname = ${schema} and c.relname = ${table} and a.attname = ${column} and not a.attisdropped
)`;
  return sql`select ${has('lead_dedupe_runs', 'table_relname')} as runs_up_to_date,
       ${has('lead_dedupe_keepers', 'merged_data')} as keepers_up_to_date,
       not exists (
  select 1
  from pg_catalog.pg_constraint co
  join pg_catalog.pg_class c on c.oid = co.conrelid
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  where n.nspname = ${schema} and c.relname = 'lead_dedupe_runs' and co.contype = 'c' and co.conname = 'lead_dedupe_runs_status_check'
    and pg_catalog.strpos(pg_catalog.pg_get_constraintdef(co.oid), 'restored with conflicts') = 0
) as statuses_up_to_date`;
}

export interface NewRun {
  /** schema.name, for people; schema and relation are what restore and runs look the table up by. */
  table: string;
  schema: string;
  relation: string;
  keyName: string;
  keyColumns: string[];
  normalize: Record<string, string>;
  nullsEqual: boolean;
  keep: string;
  mode: string;
  options: Record<string, unknown>;
}

export function insertRunStatement(schema: string, run: NewRun): RawBuilder<{ id: string | number }> {
  return sql`insert into ${archiveRef(schema, 'lead_dedupe_runs')}
  (status, table_name, table_schema, table_relname, key_name, key_columns, normalize, nulls_equal, keep, mode, options)
values ('running', ${run.table}, ${run.schema}, ${run.relation}, ${run.keyName}, ${run.keyColumns}::text[], ${JSON.stringify(run.normalize)}::jsonb, ${run.nullsEqual},
        ${run.keep}, ${run.mode}, ${JSON.stringify(run.options)}::jsonb)
returning id`;
}

/** The run's running totals, written in the batch's own transaction (so they always match what is archived). */
export interface RunTotals {
  groupsPlanned: number;
  groupsDone: number;
  rowsRemoved: number;
  rowsMerged: number;
  groupsSkipped: number;
  childRowsMoved: Record<string, number>;
  batchesDone: number;
}

export function updateRunTotalsStatement(schema: string, runId: number, totals: RunTotals): RawBuilder<unknown> {
  return sql`update ${archiveRef(schema, 'lead_dedupe_runs')}
set groups_planned = ${totals.groupsPlanned}, groups_done = ${totals.groupsDone}, rows_removed = ${totals.rowsRemoved},
    rows_merged = ${totals.rowsMerged}, groups_skipped = ${totals.groupsSkipped},
    child_rows_moved = ${JSON.stringify(totals.childRowsMoved)}::jsonb, batches_done = ${totals.batchesDone}
where id = ${runId}`;
}

export function finishRunStatement(schema: string, runId: number, status: RunStatus, message: string | null): RawBuilder<unknown> {
  return sql`update ${archiveRef(schema, 'lead_dedupe_runs')}
set status = ${status}, finished_at = clock_timestamp(), message = ${message}
where id = ${runId}`;
}

/**
 * Runs of this table still marked running once we hold its advisory lock
 * died without finishing (killed, connection lost): their committed batches
 * are archived, the rest was rolled back.
 */
export function markInterruptedStatement(schema: string, table: { schema: string; name: string }): RawBuilder<unknown> {
  return sql`update ${archiveRef(schema, 'lead_dedupe_runs')}
set status = 'interrupted', finished_at = coalesce(finished_at, clock_timestamp()),
    message = coalesce(message, 'the process ended without finishing; committed batches are archived')
where table_schema = ${table.schema} and table_relname = ${table.name} and status = 'running'`;
}

/** The archive's INSERT heads: one column list each for the statements that archive removed rows and moves. */
function insertIntoRemoved(schema: string): RawBuilder<unknown> {
  return sql`insert into ${archiveRef(schema, 'lead_dedupe_removed')} (run_id, batch_no, group_id, keeper_id, row_id, row_data)`;
}

function insertIntoMoved(schema: string): RawBuilder<unknown> {
  return sql`insert into ${archiveRef(schema, 'lead_dedupe_moved')}
  (run_id, batch_no, child_schema, child_table, constraint_name, column_name, pk_columns, child_pk, old_value, new_value)`;
}

/** Each removed row in full, before it goes. */
export function archiveRemovedStatement({ schema, runId, batch }: BatchArchive, table: LeadTable, scope: BatchScope = WHOLE_BATCH): RawBuilder<unknown> {
  return sql`${insertIntoRemoved(schema)}
select ${runId}::int8, ${batch}::int4, m.group_id, m.keeper_id::text, m.row_id::text, to_jsonb(l)
from ${tableRef(table)} as l
join ${TEMP.members} as m on ${columnRef(table.idColumn, 'l')} = m.row_id
where m.rank_in_group > 1${scope.leads('l')}`;
}

/**
 * The batch's removed rows deleted and archived in one statement: each row
 * as the DELETE found it (locked since the batch began), so the archive holds
 * exactly what was removed. One pass over the removed rows instead of two
 * (archive, then delete): at 1M rows 1.6 s against 2.4 s. Not on a Citus
 * cluster, which archives first and deletes after (archiveRemovedStatement).
 *
 *   with removed as (delete from "public"."leads" as l using pg_temp.ld_members as m
 *                    where "l"."id" = m.row_id and m.rank_in_group > 1
 *                    returning m.group_id, m.keeper_id, m.row_id, to_jsonb(l) as row_data)
 *   insert into "lead_dedupe"."lead_dedupe_removed" (…) select $1, $2, group_id, keeper_id::text, row_id::text, row_data from removed
 */
export function deleteArchivedStatement({ schema, runId, batch }: BatchArchive, table: LeadTable): RawBuilder<unknown> {
  return sql`with removed as (
  delete from ${tableRef(table)} as l
  using ${TEMP.members} as m
  where ${columnRef(table.idColumn, 'l')} = m.row_id and m.rank_in_group > 1
  returning m.group_id, m.keeper_id, m.row_id, to_jsonb(l) as row_data)
${insertIntoRemoved(schema)}
select ${runId}::int8, ${batch}::int4, group_id, keeper_id::text, row_id::text, row_data
from removed`;
}

/**
 * One child table's rows re-pointed and archived in one statement, where the
 * move changes one column only: its old value is the removed lead's id (the
 * rows moved are exactly those that referenced it), its new value and the
 * row's primary key as the UPDATE left them (archiveMovedStatement's columns,
 * in one pass over the child rows instead of two). Not on a Citus cluster
 * (archiveMovedStatement, then the move).
 */
export function moveArchivedStatement({ schema, runId, batch }: BatchArchive, reference: ChildReference, idColumn: string): RawBuilder<unknown> {
  const changed = movedColumns(reference, idColumn);
  if (changed.length !== 1) throw new Error(`moveArchivedStatement: ${reference.constraint} moves more than one column`);
  const moved = changed[0]!;
  const pk = reference.primaryKey.map((column, index) => sql`${columnRef(column, 'c')} as ${sql.id(`ld_pk_${index}`)}`);
  const pkValues = reference.primaryKey.map((_, index) => sql.id('moved', `ld_pk_${index}`));
  return sql`with moved as (
  update ${sql.id(reference.schema, reference.table)} as c
  set ${sql.id(moved.column)} = ${moved.value}
  from ${membersWithKeepers(reference, idColumn)} as m
  where ${movedRowsCondition(reference, idColumn)}
  returning ${sql.join(pk)}, m.row_id as ld_old_value, ${columnRef(moved.column, 'c')} as ld_new_value)
${insertIntoMoved(schema)}
select ${runId}::int8, ${batch}::int4, ${reference.schema}::text, ${reference.table}::text, ${reference.constraint}::text,
       ${moved.column}::text, ${reference.primaryKey}::text[], jsonb_build_array(${sql.join(pkValues)}), to_jsonb(moved.ld_old_value),
       coalesce(to_jsonb(moved.ld_new_value), 'null'::jsonb)
from moved`;
}

/**
 * Each child row about to be re-pointed: one archive row per column the
 * move changes (the id column; a composite key's columns the keeper does
 * not share), with the old and new value (JSON null when it becomes NULL)
 * and the row's primary key as it is after the move (where restore finds
 * it; the same as before unless the key is part of the primary key).
 */
export function archiveMovedStatement(
  { schema, runId, batch }: BatchArchive,
  reference: ChildReference,
  idColumn: string,
  scope: BatchScope = WHOLE_BATCH,
): RawBuilder<unknown> {
  const changed = movedColumns(reference, idColumn);
  const pk = reference.primaryKey.map((column) => changed.find((moved) => moved.column === column)?.value ?? columnRef(column, 'c'));
  const header = insertIntoMoved(schema);
  const common = sql`${runId}::int8, ${batch}::int4, ${reference.schema}::text, ${reference.table}::text, ${reference.constraint}::text`;
  if (changed.length === 1) {
    return sql`${header}
select ${common},
       ${reference.column}::text, ${reference.primaryKey}::text[], jsonb_build_array(${sql.join(pk)}), to_jsonb(${columnRef(reference.column, 'c')}),
       coalesce(to_jsonb(${movedRowValue(reference, idColumn)}), 'null'::jsonb)
${movedRowsFrom(reference, idColumn, { scope })}`;
  }
  // unnest of three arrays, not VALUES: Citus pushes no VALUES list holding a non-immutable function (to_jsonb) down to the shards.
  const names = changed.map(({ column }) => sql`${column}::text`);
  const olds = changed.map(({ column }) => sql`to_jsonb(${columnRef(column, 'c')})`);
  const news = changed.map(({ value }) => sql`coalesce(to_jsonb(${value}), 'null'::jsonb)`);
  return sql`${header}
select ${common},
       v.column_name, ${reference.primaryKey}::text[], jsonb_build_array(${sql.join(pk)}), v.old_value, v.new_value
${movedRowsFrom(reference, idColumn, { members: membersWithKeepers(reference, idColumn), scope })}
cross join lateral unnest(array[${sql.join(names)}], array[${sql.join(olds)}], array[${sql.join(news)}]) as v(column_name, old_value, new_value)`;
}

export function archiveSkippedStatement({ schema, runId, batch }: BatchArchive): RawBuilder<unknown> {
  return sql`insert into ${archiveRef(schema, 'lead_dedupe_skipped')} (run_id, batch_no, group_id, reason)
select ${runId}::int8, ${batch}::int4, group_id, reason from ${TEMP.skipped}`;
}
