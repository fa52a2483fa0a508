import type { Database } from '../../db/database.js';
import { rowNumber } from '../../db/row-numbers.js';
import { findTableName, qualifiedName, resolveTable, tableExists } from '../../db/catalog.js';
import { listRunsQuery, type RunsTableFilter } from './runs-sql.js';
import type { RunStatus } from '../types.js';
import { requireArchiveReadable } from '../permissions.js';

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
  /** The plan a `clean --plan` run applied (from options.plan); null for a plain clean. */
  plan: RunPlan | null;
}

export interface RunPlan {
  file: string;
  /** The digest in the plan's header. */
  id: string;
  edited: boolean;
  createdAt: string;
}

export interface RunsOptions {
  archiveSchema: string;
  /** Only runs on this table (as the user names it: `leads` or `schema.leads`); null = all. */
  table: string | null;
  limit: number;
}

/** One page of `runs`: the newest runs up to the limit, and how many older ones it leaves out. */
export interface RunsPage {
  runs: RunSummary[];
  /** Runs that match the filter but lie beyond the limit. */
  notShown: number;
}

/** Past clean runs, newest first (see listRunsPage). */
export async function listRuns(database: Database, options: RunsOptions): Promise<RunSummary[]> {
  return (await listRunsPage(database, options)).runs;
}

/**
 * Past clean runs, newest first, and how many more the limit left out. No archive yet = no runs (not an error).
 * A --table that neither exists nor has runs is a typo: refused like in
 * every other command (a dropped table that has runs is still listed).
 */
export async function listRunsPage(database: Database, options: RunsOptions): Promise<RunsPage> {
  const filter = options.table === null ? null : await tableFilter(database, options.table);
  const archived = await tableExists(database.db, options.archiveSchema, 'lead_dedupe_runs');
  if (archived) await requireArchiveReadable(database.db, options.archiveSchema, 'runs');
  const { rows } = archived ? await listRunsQuery(options.archiveSchema, filter, options.limit).execute(database.db) : { rows: [] };
  if (rows.length === 0 && options.table !== null && filter !== null && 'typed' in filter)
    await refuseUnknownTable(database, options.table, options.archiveSchema);
  // No row: nothing matches (the limit is at least 1).
  const notShown = rows.length === 0 ? 0 : rowNumber(rows[0]!.matching, 'matching') - rows.length;
  const runs = rows.map((row) => ({
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
    groupsPlanned: rowNumber(row.groups_planned, 'groups_planned'),
    groups: rowNumber(row.groups_done, 'groups_done'),
    rowsRemoved: rowNumber(row.rows_removed, 'rows_removed'),
    rowsMerged: rowNumber(row.rows_merged, 'rows_merged'),
    groupsSkipped: rowNumber(row.groups_skipped, 'groups_skipped'),
    childRowsMoved: row.child_rows_moved,
    batchesDone: row.batches_done,
    dbUser: row.db_user,
    clientHost: row.client_host,
    message: row.message,
    options: row.options,
    plan: runPlan(row.options),
  }));
  return { runs, notShown };
}

/** A table dropped since is matched as typed. */
async function tableFilter(database: Database, table: string): Promise<RunsTableFilter> {
  const found = await findTableName(database.db, table);
  return found === undefined ? { typed: table } : { schema: found.schema, name: found.name, qualified: qualifiedName(found) };
}

/** Throws the catalog's own "table … not found; tables here: …" (exit 2). */
async function refuseUnknownTable(database: Database, table: string, archiveSchema: string): Promise<void> {
  await resolveTable(database.db, table, { command: 'runs', archiveSchema });
}

function runPlan(options: Record<string, unknown>): RunPlan | null {
  const plan = options.plan as { file?: string; id?: string; edited?: boolean; header?: { createdAt?: string } } | undefined;
  if (plan === undefined || plan === null) return null;
  return { file: String(plan.file ?? ''), id: String(plan.id ?? ''), edited: plan.edited === true, createdAt: String(plan.header?.createdAt ?? '') };
}
