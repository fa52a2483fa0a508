import { sql } from 'kysely';
import type { Database } from '../../db/database.js';
import { toNumber } from '../../db/database.js';
import { qualifiedName, resolveTable, tableExists } from '../../db/catalog.js';
import { CatalogError } from '../../errors.js';
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
  const table = options.table === null ? null : await recordedName(database, options.table);
  const utc = (column: string) => sql`to_char(${sql.ref(column)} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`;
  const { rows } = await sql<RunRecord>`
    select id::text as id, status, ${utc('started_at')} as started_at, ${utc('finished_at')} as finished_at, ${utc('restored_at')} as restored_at,
           table_name, key_name, key_columns, normalize, nulls_equal, keep, mode, groups_planned, groups_done, rows_removed,
           rows_merged, groups_skipped, child_rows_moved, batches_done, db_user, client_host, message, options
    from ${archiveRef(options.archiveSchema, 'lead_dedupe_runs')}
    where ${table === null ? sql`true` : sql`table_name = ${table}`}
    order by id desc
    limit ${sql.lit(options.limit)}`.execute(database.db);
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

/** Runs record tables as schema.name, as the catalog resolves them; a table dropped since is matched as typed. */
async function recordedName(database: Database, table: string): Promise<string> {
  try {
    return qualifiedName(await resolveTable(database.db, table));
  } catch (error) {
    if (error instanceof CatalogError) return table;
    throw error;
  }
}
