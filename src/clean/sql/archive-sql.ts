import { sql, type RawBuilder } from 'kysely';

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
