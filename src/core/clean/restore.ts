import { sql } from 'kysely';
import type { Database, Db } from '../../db/database.js';
import { toNumber } from '../../db/database.js';
import { qualifiedName, resolveTable, tableExists, type ColumnInfo } from '../../db/catalog.js';
import { UsageError } from '../../errors.js';
import { resolveLeadTable } from '../../keys/resolve-key.js';
import type { LeadTable } from '../../keys/key-definition.js';
import {
  keeperConflictsCountQuery,
  keeperConflictsSampleQuery,
  keeperConflictsStatements,
  keepersCountQuery,
  laterRunsQuery,
  markRestoredStatement,
  moveBackStatement,
  movedTargetsQuery,
  reinsertRemovedStatement,
  restoreKeepersStatement,
  runForUpdateQuery,
  type MovedTarget,
} from '../../sql/restore-plan.js';
import { archiveRef, mergedDataColumnExistsQuery } from '../../sql/archive-plan.js';
import { acquireTableLock, releaseTableLock } from './advisory-lock.js';
import { RestoreConflictError } from './clean-errors.js';
import { requirePrivileges } from './permissions.js';
import { insertableColumns } from './table-columns.js';
import { firstLineOf, sqlStateOf } from '../../db/database-error.js';
import { inTransaction, rehearse } from '../../db/transaction.js';

export interface RestoreOptions {
  runId: number;
  archiveSchema: string;
  /** false = dry run: the restore is rehearsed in a transaction that is rolled back. */
  execute: boolean;
  /** Put merged keeper columns back even where the application changed them since the clean (or the archive cannot tell). */
  force?: boolean;
}

/** A merged keeper column restore left alone (or, with --force, overwrote). */
export interface KeeperConflict {
  keeperId: string;
  column: string;
  /** The value it holds now, as text, cut to 60 characters. */
  current: string | null;
  /** true: the archive predates the record of what the merge wrote, so "unchanged" cannot be proven. */
  unproven: boolean;
}

export interface KeeperConflicts {
  total: number;
  unproven: number;
  /** --force: these columns were put back anyway. */
  overwritten: boolean;
  /** The first 100, in id order. */
  sample: KeeperConflict[];
}

export interface RestoreResult {
  runId: number;
  table: string;
  executed: boolean;
  rowsReinserted: number;
  keepersRestored: number;
  /** Merged keeper columns that no longer hold what the merge wrote: left as they are unless --force. */
  keeperConflicts: KeeperConflicts;
  childRows: { table: string; column: string; archived: number; movedBack: number }[];
  durationMs: number;
}

/**
 * Undoes a clean run in one transaction. The dry run performs exactly the
 * same statements and rolls them back, so it reports the same counts and
 * the same constraint conflicts that --execute would meet.
 */
export async function restoreRun(database: Database, options: RestoreOptions): Promise<RestoreResult> {
  const started = performance.now();
  const { runId, archiveSchema } = options;
  if (!(await tableExists(database.db, archiveSchema, 'lead_dedupe_runs'))) {
    throw new UsageError(`no clean runs are recorded: ${archiveSchema}.lead_dedupe_runs does not exist (see --archive-schema)`);
  }
  const run = await readRun(database.db, archiveSchema, runId);
  const table = resolveLeadTable(await resolveTable(database.db, run.table), run.idColumn, null);
  if (run.table !== qualifiedName(table.info)) throw new UsageError(`run ${runId} cleaned ${run.table}, which no longer exists`);
  const columns = insertableColumns(table.info.columns);
  const targets = (await movedTargetsQuery(archiveSchema, runId).execute(database.db)).rows;
  if (options.execute) {
    await requirePrivileges(database.db, { table, references: [], archiveSchema, mode: 'merge', restore: true });
  }
  return database.db.connection().execute(async (connection) => {
    await acquireTableLock(connection, table, archiveSchema);
    try {
      const transaction = options.execute ? inTransaction : rehearse;
      const counts = await transaction(connection, () => restoreStatements(connection, table, columns, targets, options, run.status));
      return { runId, table: run.table, executed: options.execute, ...counts, durationMs: Math.round(performance.now() - started) };
    } catch (error) {
      throw asConflict(error, runId);
    } finally {
      await releaseTableLock(connection, table).catch(() => undefined);
    }
  });
}

async function restoreStatements(
  connection: Db,
  table: LeadTable,
  columns: ColumnInfo[],
  targets: MovedTarget[],
  options: RestoreOptions,
  statusBefore: string,
) {
  const { runId, archiveSchema } = options;
  const locked = (await runForUpdateQuery(archiveSchema, runId).execute(connection)).rows[0];
  if (!locked || locked.status === 'restored' || locked.status !== statusBefore) {
    throw new UsageError(`run ${runId} was restored meanwhile`);
  }
  const later = (await laterRunsQuery(archiveSchema, runId).execute(connection)).rows.map((row) => row.run_id);
  if (later.length > 0) {
    throw new UsageError(`run(s) ${later.join(', ')} later removed rows that run ${runId} kept; restore ${later.length > 1 ? 'them' : 'it'} first (newest first)`);
  }
  const names = columns.map((c) => c.name);
  const hasIdentity = columns.some((c) => c.identity !== '');
  const reinserted = affected(await reinsertRemovedStatement(archiveSchema, table, names, hasIdentity, runId).execute(connection));
  const keepers = toNumber((await keepersCountQuery(archiveSchema, runId).execute(connection)).rows[0]?.n);
  const restorable = names.filter((name) => name !== table.idColumn && columns.find((c) => c.name === name)?.identity === '');
  const force = options.force ?? false;
  let keepersRestored = 0;
  let keeperConflicts: KeeperConflicts = { total: 0, unproven: 0, overwritten: force, sample: [] };
  if (keepers > 0 && restorable.length > 0) {
    const hasMergedData = (await mergedDataColumnExistsQuery(archiveSchema).execute(connection)).rows[0]?.present ?? false;
    for (const statement of keeperConflictsStatements(archiveSchema, table, restorable, runId, hasMergedData)) await statement.execute(connection);
    const summary = (await keeperConflictsCountQuery().execute(connection)).rows[0];
    const sample = (await keeperConflictsSampleQuery(CONFLICT_SAMPLE).execute(connection)).rows.map((row) => ({
      keeperId: row.keeper_id,
      column: row.column_name,
      current: row.current_value,
      unproven: row.unproven,
    }));
    keeperConflicts = { total: toNumber(summary?.total), unproven: toNumber(summary?.unproven), overwritten: force, sample };
    keepersRestored = affected(await restoreKeepersStatement(archiveSchema, table, restorable, runId, force).execute(connection));
  }
  const childRows: RestoreResult['childRows'] = [];
  for (const target of targets) {
    await requireChild(connection, target.child_schema, target.child_table);
    const movedBack = affected(await moveBackStatement(archiveSchema, target, runId).execute(connection));
    childRows.push({ table: `${target.child_schema}.${target.child_table}`, column: target.column_name, archived: toNumber(target.n), movedBack });
  }
  await markRestoredStatement(archiveSchema, runId).execute(connection);
  return { rowsReinserted: reinserted, keepersRestored, keeperConflicts, childRows };
}

const CONFLICT_SAMPLE = 100;

interface RunInfo {
  table: string;
  idColumn: string;
  status: string;
}

async function readRun(db: Db, schema: string, runId: number): Promise<RunInfo> {
  const { rows } = await sql<{ table_name: string; id_column: string | null; status: string }>`
    select table_name, options ->> 'idColumn' as id_column, status
    from ${archiveRef(schema, 'lead_dedupe_runs')} where id = ${runId}`.execute(db);
  const row = rows[0];
  if (!row) throw new UsageError(`run ${runId} not found in ${schema}.lead_dedupe_runs (see lead-dedupe runs)`);
  if (row.status === 'restored') throw new UsageError(`run ${runId} is already restored`);
  return { table: row.table_name, idColumn: row.id_column ?? 'id', status: row.status };
}

async function requireChild(db: Db, schema: string, name: string): Promise<void> {
  if (!(await tableExists(db, schema, name))) throw new RestoreConflictError(`child table ${schema}.${name} no longer exists; nothing was changed`);
}

/** Integrity errors become one line naming the constraint; the transaction is already rolled back. */
function asConflict(error: unknown, runId: number): unknown {
  const state = sqlStateOf(error);
  if (state === null || !state.startsWith('23')) return error;
  const { constraint, detail, table } = error as { constraint?: string; detail?: string; table?: string };
  const where = constraint ? `constraint ${constraint}${table ? ` on ${table}` : ''}` : 'a constraint';
  return new RestoreConflictError(`restoring run ${runId} would violate ${where}${detail ? ` (${detail})` : `: ${firstLineOf(error)}`}; nothing was changed`);
}

function affected(result: { numAffectedRows?: bigint }): number {
  return Number(result.numAffectedRows ?? 0);
}
