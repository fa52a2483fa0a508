import { sql } from 'kysely';
import type { Database } from '../../db/database.js';
import { toNumber } from '../../db/database.js';
import { findTableName, qualifiedName, tableExists } from '../../db/catalog.js';
import { archiveRef } from '../../sql/archive-plan.js';
import type { RunStatus } from './clean-types.js';

export interface RunSummary {
  id: number;
  status: RunStatus;
  startedAt: string;
  finishedAt: string | null;
  restoredAt: string | null;
  table: string;
  key: string;
  keyColumns: string[];
  normalize: Record<string, string>;
  nullsEqual: boolean;
  keep: string;
  mode: string;
  groupsPlanned: number;
  groups: number;
  rowsRemoved: number;
  rowsMerged: number;
  groupsSkipped: number;
  childRowsMoved: Record<string, number>;
  batchesDone: number;
  dbUser: string;
  clientHost: string;
  message: string | null;
  options: Record<string, unknown>;
}

export interface RunsOptions {
  archiveSchema: string;
  /** Only runs on this table (as the user names it: `leads` or `schema.leads`); null = all. */
  table: string | null;
  limit: number;
}

interface RunRecord {
  id: string;
  status: RunStatus;
  started_at: string;
  finished_at: string | null;
  restored_at: string | null;
  table_name: string;
  key_name: string;
  key_columns: string[];
  normalize: Record<string, string>;
  nulls_equal: boolean;
  keep: string;
  mode: string;
  groups_planned: string | number;
  groups_done: string | number;
  rows_removed: string | number;
  rows_merged: string | number;
  groups_skipped: string | number;
  child_rows_moved: Record<string, number>;
  batches_done: number;
  db_user: string;
  client_host: string;
  message: string | null;
  options: Record<string, unknown>;
}

/** Past clean runs, newest first. No archive yet = no runs (not an error). */
export async function listRuns(database: Database, options: RunsOptions): Promise<RunSummary[]> {
  if (!(await tableExists(database.db, options.archiveSchema, 'lead_dedupe_runs'))) return [];
  const utc = (column: string) => sql`to_char(${sql.ref(`r.${column}`)} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`;
  // Sorted by the bigint id itself (as text, run 9 would sort after run 11).
  const { rows } = await sql<RunRecord>`
    select r.id::text as id, r.status, ${utc('started_at')} as started_at, ${utc('finished_at')} as finished_at, ${utc('restored_at')} as restored_at,
           r.table_name, r.key_name, r.key_columns, r.normalize, r.nulls_equal, r.keep, r.mode, r.groups_planned, r.groups_done, r.rows_removed,
           r.rows_merged, r.groups_skipped, r.child_rows_moved, r.batches_done, r.db_user, r.client_host, r.message, r.options
    from ${archiveRef(options.archiveSchema, 'lead_dedupe_runs')} as r
    where ${options.table === null ? sql`true` : await tableFilter(database, options.table)}
    order by r.id desc
    limit ${options.limit}::int8`.execute(database.db);
  return rows.map((row) => ({
    id: Number(row.id),
    status: row.status,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    restoredAt: row.restored_at,
    table: row.table_name,
    key: row.key_name,
    keyColumns: row.key_columns,
    normalize: row.normalize,
    nullsEqual: row.nulls_equal,
    keep: row.keep,
    mode: row.mode,
    groupsPlanned: toNumber(row.groups_planned),
    groups: toNumber(row.groups_done),
    rowsRemoved: toNumber(row.rows_removed),
    rowsMerged: toNumber(row.rows_merged),
    groupsSkipped: toNumber(row.groups_skipped),
    childRowsMoved: row.child_rows_moved,
    batchesDone: row.batches_done,
    dbUser: row.db_user,
    clientHost: row.client_host,
    message: row.message,
    options: row.options,
  }));
}

/**
 * Runs record their table's schema and name apart (a schema may hold a dot);
 * an archive of the previous version has only schema.name as text, which
 * to_jsonb reads without failing on the missing columns. A table dropped
 * since is matched as typed.
 */
async function tableFilter(database: Database, table: string) {
  const found = await findTableName(database.db, table);
  if (found === undefined) return sql`r.table_name = ${table}`;
  return sql`coalesce(to_jsonb(r) ->> 'table_schema' = ${found.schema} and to_jsonb(r) ->> 'table_relname' = ${found.name},
                      r.table_name = ${qualifiedName(found)})`;
}
