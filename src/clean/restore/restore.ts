import { distributionColumn, distributionColumnOf } from '../../db/distribution.js';
import { sql } from 'kysely';
import type { Database, Db } from '../../db/database.js';
import { rowNumber } from '../../db/row-numbers.js';
import { qualifiedName, resolveTableByName, tableExists, type ColumnInfo } from '../../db/catalog.js';
import { requireUniqueIdColumn } from '../../core/lead-table.js';
import { DatabaseError, UsageError } from '../../errors.js';
import { resolveLeadTable } from '../../keys/resolve-key.js';
import type { LeadTable } from '../../keys/key-definition.js';
import { passwordNote, SAME_SHELL, tableCommand, type CommandLineContext } from '../../keys/key-command-line.js';
import {
  keeperConflictsCountQuery,
  keeperConflictsSampleQuery,
  keeperConflictsStatements,
  keepersCountQuery,
  laterRunsQuery,
  markRestoredStatement,
  archivedMovesStatements,
  moveBackByCopyStatements,
  moveBackStatement,
  movedTargetsQuery,
  reinsertRemovedStatement,
  restoreKeepersStatements,
  runForUpdateQuery,
  type ConflictSummary,
  type MovedTarget,
} from './restore-sql.js';
import { archiveRef, archiveUpToDateQuery, runStatusUpgradeStatement } from '../sql/archive-sql.js';
import { archivedColumnsQuery } from './restore-columns-sql.js';
import { matchArchivedColumns, type ArchivedColumnChoices, type ColumnRename, type RestoreShape } from './restore-columns.js';
import { acquireTableLock, releaseTableLock } from '../advisory-lock.js';
import { RestoreConflictError } from '../errors.js';
import { requireArchiveReadable, requirePrivileges } from '../permissions.js';
import { insertableColumns } from '../table-columns.js';
import { firstLineOf, sqlStateOf } from '../../db/database-error.js';
import { inTransaction, rehearse } from '../../db/transaction.js';
import { requireWritable } from '../../db/read-only.js';
import { CLEAN_DEFAULTS } from '../defaults.js';
import { citusTimeoutsStatements, timeoutsStatement } from '../sql/session-sql.js';
import {
  keeperConflictsCountedQuery,
  keeperConflictsSampleCountedQuery,
  keepersToRestoreQuery,
  moveBackCountQuery,
  reinsertCountQuery,
} from './restore-count-sql.js';
import { abortable } from '../../db/abortable.js';

export interface RestoreOptions {
  runId: number;
  archiveSchema: string;
  /** false = dry run: the restore is rehearsed in a transaction that is rolled back (on a read-only server: counted with SELECTs). */
  execute: boolean;
  /** Limits for the restore's session (clean's defaults: 5 s and 60 s), over any database- or role-level setting. */
  lockTimeoutMs?: number;
  statementTimeoutMs?: number;
  /** Put merged keeper columns back even where the application changed them since the clean (or the archive cannot tell). */
  force?: boolean;
  /** How the commands a conflict message suggests (constraint drop, runs) reach the same database; default: the same shell. */
  commandLine?: CommandLineContext;
  /** Archived columns the table no longer has: renamed (--map old=new) or not restored (--drop-column). */
  columns?: ArchivedColumnChoices;
}

/** What a restore marks its run: restored, or restored except merged keeper columns it left alone. */
export type RestoredStatus = 'restored' | 'restored with conflicts';

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
  /** How the dry run was made: rehearsed (the real statements, rolled back) or counted (read-only server: SELECTs only); null after --execute. */
  dryRun: 'rehearsed' | 'counted' | null;
  rowsReinserted: number;
  keepersRestored: number;
  /** Merged keeper columns that no longer hold what the merge wrote: left as they are unless --force. */
  keeperConflicts: KeeperConflicts;
  childRows: { table: string; column: string; archived: number; movedBack: number }[];
  /** The run's status after the restore (or, in a dry run, after --execute). */
  status: RestoredStatus;
  /** The run was restored with conflicts before: only its merged keeper columns were left (restore --force). */
  finishing: boolean;
  /** How the archived rows met a table changed since the clean. */
  columns: { renamed: ColumnRename[]; dropped: string[]; added: string[] };
  durationMs: number;
}

/**
 * Undoes a clean run in one transaction. The dry run performs exactly the
 * same statements and rolls them back, so it reports the same counts and
 * the same constraint conflicts that --execute would meet.
 */
export async function restoreRun(database: Database, options: RestoreOptions, hooks: { cancel?: AbortSignal } = {}): Promise<RestoreResult> {
  const started = performance.now();
  const { runId, archiveSchema } = options;
  if (options.execute) requireWritable(database);
  if (!(await tableExists(database.db, archiveSchema, 'lead_dedupe_runs'))) {
    throw new UsageError(`no clean runs are recorded: ${archiveSchema}.lead_dedupe_runs does not exist (see --archive-schema)`);
  }
  await requireArchiveReadable(database.db, archiveSchema, 'restore');
  const run = await readRun(database.db, { schema: archiveSchema, runId, commandLine: options.commandLine ?? SAME_SHELL, force: options.force ?? false });
  const info =
    run.schema === null || run.relation === null
      ? undefined
      : await resolveTableByName(database.db, run.schema, run.relation, { command: 'restore', archiveSchema });
  if (info === undefined) throw new UsageError(`run ${runId} cleaned ${run.table}, which no longer exists`);
  const table = resolveLeadTable(info, run.idColumn, null);
  await requireUniqueIdColumn(database.db, table, 'restore');
  const archived = (await archivedColumnsQuery(archiveSchema, runId).execute(database.db)).rows.map((row) => row.name);
  const shape = matchArchivedColumns(
    archived,
    { name: qualifiedName(table.info), all: table.info.columns, insertable: insertableColumns(table.info.columns) },
    options.columns ?? { renames: [], dropColumns: [] },
    runId,
  );
  const finishing = run.status === RESTORED_WITH_CONFLICTS;
  const targets = (await movedTargetsQuery(archiveSchema, runId).execute(database.db)).rows;
  if (options.execute) {
    await requirePrivileges(database.db, { table, references: [], archiveSchema, mode: 'merge', restore: true });
  }
  const dryRun = options.execute ? null : database.features.readOnly === null ? 'rehearsed' : 'counted';
  return database.db.connection().execute(async (connection) => {
    // In a checked transaction (db/transaction.ts), as clean takes them: on the server session the restore's transaction is checked to run on.
    await inTransaction(connection, async () => {
      await timeoutsStatement(
        options.lockTimeoutMs ?? CLEAN_DEFAULTS.lockTimeoutMs,
        options.statementTimeoutMs ?? CLEAN_DEFAULTS.statementTimeoutMs,
        'session',
      ).execute(connection);
      await acquireTableLock(connection, table, archiveSchema);
    });
    try {
      const transaction = options.execute ? inTransaction : rehearse;
      // After hooks.cancel no further statement runs and the transaction rolls back.
      const work = abortable(connection, hooks.cancel);
      const counts =
        dryRun === 'counted'
          ? await countRestore(connection, { table, shape, targets: finishing ? [] : targets, options }, finishing)
          : await transaction(connection, () => restoreStatements(work, { table, shape, targets: finishing ? [] : targets, options }, run.status));
      const status: RestoredStatus = counts.keeperConflicts.total > 0 && !counts.keeperConflicts.overwritten ? RESTORED_WITH_CONFLICTS : 'restored';
      const columns = { renamed: shape.renames, dropped: shape.dropped, added: shape.added };
      return {
        runId,
        table: run.table,
        executed: options.execute,
        dryRun,
        ...counts,
        status,
        finishing,
        columns,
        durationMs: Math.round(performance.now() - started),
      };
    } catch (error) {
      if (sqlStateOf(error) === '57014' && hooks.cancel?.aborted !== true) {
        throw timedOut(error, runId, options.statementTimeoutMs ?? CLEAN_DEFAULTS.statementTimeoutMs, options.execute);
      }
      throw asConflict(error, runId, table, options.commandLine ?? SAME_SHELL);
    } finally {
      await releaseTableLock(connection, table).catch(() => undefined);
    }
  });
}

/** What a restore (or its count on a read-only server) works on: the table, the archive's shape, the moved children, the options. */
interface RestoreWork {
  table: LeadTable;
  shape: RestoreShape;
  targets: MovedTarget[];
  options: RestoreOptions;
}

async function restoreStatements(connection: Db, { table, shape, targets, options }: RestoreWork, statusBefore: string) {
  const { runId, archiveSchema } = options;
  if (distributionColumn(table.info.distribution) !== null) {
    // On a Citus distributed table the row locks are taken on the workers: send them the timeouts (sql/session-sql.ts).
    const lockMs = options.lockTimeoutMs ?? CLEAN_DEFAULTS.lockTimeoutMs;
    const statementMs = options.statementTimeoutMs ?? CLEAN_DEFAULTS.statementTimeoutMs;
    for (const statement of citusTimeoutsStatements(lockMs, statementMs)) await statement.execute(connection);
  }
  const locked = (await runForUpdateQuery(archiveSchema, runId).execute(connection)).rows[0];
  if (!locked || locked.status === 'restored' || locked.status !== statusBefore) {
    throw new UsageError(`run ${runId} was restored meanwhile`);
  }
  await requireNoLaterRuns(connection, archiveSchema, runId);
  // A run restored with conflicts has its rows and child rows back already: --force only puts back the merged keeper columns left alone.
  const finishing = statusBefore === RESTORED_WITH_CONFLICTS;
  const { renames } = shape;
  const names = shape.columns.map((c) => c.name);
  const hasIdentity = shape.columns.some((c) => c.identity !== '');
  const reinserted = finishing
    ? 0
    : affected(await reinsertRemovedStatement({ schema: archiveSchema, runId }, table, { columns: names, hasIdentity, renames }).execute(connection));
  const keepers = rowNumber((await keepersCountQuery(archiveSchema, runId).execute(connection)).rows[0]?.n, 'n');
  const restorable = restorableColumns(table, shape.columns);
  const force = options.force ?? false;
  let keepersRestored = 0;
  let keeperConflicts: KeeperConflicts = noConflicts(force);
  if (keepers > 0 && restorable.length > 0) {
    const hasMergedData = await archiveHasMergedData(connection, archiveSchema);
    const restore = { schema: archiveSchema, table, columns: restorable, runId, hasMergedData, force, renames, finishing };
    for (const statement of keeperConflictsStatements(restore)) await statement.execute(connection);
    const summary = (await keeperConflictsCountQuery().execute(connection)).rows[0];
    const sample = (await keeperConflictsSampleQuery(CONFLICT_SAMPLE).execute(connection)).rows;
    keeperConflicts = conflictsOf(summary, sample, force);
    const [decide, update] = restoreKeepersStatements(restore);
    await decide!.execute(connection);
    keepersRestored = affected(await update!.execute(connection));
  }
  const childRows: RestoreResult['childRows'] = [];
  for (const target of targets) {
    await requireChild(connection, target.child_schema, target.child_table);
    for (const statement of archivedMovesStatements(archiveSchema, target, runId)) await statement.execute(connection);
    const distribution = await distributionColumnOf(connection, target.child_schema, target.child_table);
    const movedBack =
      distribution !== null && target.columns.includes(distribution)
        ? await moveBackByCopy(connection, target, distribution)
        : affected(await moveBackStatement(target).execute(connection));
    childRows.push({ table: `${target.child_schema}.${target.child_table}`, column: target.column_name, archived: rowNumber(target.n, 'n'), movedBack });
  }
  const leftAlone = keeperConflicts.total > 0 && !force;
  if (leftAlone && !(await archiveState(connection, archiveSchema)).statuses_up_to_date) {
    // An archive from before 'restored with conflicts' (the ALTER needs the archive's owner, like clean's upgrades).
    await runStatusUpgradeStatement(archiveSchema).execute(connection);
  }
  const message = leftAlone
    ? `${keeperConflicts.total} merged keeper column(s) left as the application changed them; restore ${runId} --force --execute puts them back`
    : null;
  await markRestoredStatement(archiveSchema, runId, leftAlone ? RESTORED_WITH_CONFLICTS : 'restored', message).execute(connection);
  return { rowsReinserted: reinserted, keepersRestored, keeperConflicts, childRows };
}

/**
 * The dry run on a read-only server, which cannot run even a rolled-back
 * INSERT: the same checks and counts as restoreStatements, by SELECTs
 * (keeper conflicts included). A re-inserted id that is back in the table
 * is reported as the conflict the INSERT would meet; other unique indexes
 * are only checked by --execute.
 */
async function countRestore(connection: Db, { table, shape, targets, options }: RestoreWork, finishing: boolean) {
  const { runId, archiveSchema } = options;
  const { renames } = shape;
  await requireNoLaterRuns(connection, archiveSchema, runId);
  const reinsert = finishing ? undefined : (await reinsertCountQuery(archiveSchema, table, runId, renames).execute(connection)).rows[0];
  // finishing an interrupted restore re-inserts nothing: its rows are in already
  const present = reinsert === undefined ? 0 : rowNumber(reinsert.present, 'present');
  if (present > 0) {
    throw new RestoreConflictError(
      `restoring run ${runId} would re-insert ${present} row(s) whose ${table.idColumn} is in ${qualifiedName(table.info)} again; nothing was changed`,
      { runId, table: qualifiedName(table.info), rows: present },
    );
  }
  const restorable = restorableColumns(table, shape.columns);
  const force = options.force ?? false;
  const keepers = rowNumber((await keepersCountQuery(archiveSchema, runId).execute(connection)).rows[0]?.n, 'n');
  let keepersRestored = 0;
  let keeperConflicts: KeeperConflicts = noConflicts(force);
  if (keepers > 0 && restorable.length > 0) {
    const hasMergedData = await archiveHasMergedData(connection, archiveSchema);
    const restore = { schema: archiveSchema, table, columns: restorable, runId, hasMergedData, force, renames, finishing };
    const summary = (await keeperConflictsCountedQuery(restore).execute(connection)).rows[0];
    const sample = (await keeperConflictsSampleCountedQuery(restore, CONFLICT_SAMPLE).execute(connection)).rows;
    keeperConflicts = conflictsOf(summary, sample, force);
    keepersRestored = rowNumber((await keepersToRestoreQuery(restore).execute(connection)).rows[0]?.n, 'n');
  }
  const childRows: RestoreResult['childRows'] = [];
  for (const target of targets) {
    await requireChild(connection, target.child_schema, target.child_table);
    const movedBack = rowNumber((await moveBackCountQuery(archiveSchema, target, runId).execute(connection)).rows[0]?.n, 'n');
    childRows.push({ table: `${target.child_schema}.${target.child_table}`, column: target.column_name, archived: rowNumber(target.n, 'n'), movedBack });
  }
  return { rowsReinserted: reinsert === undefined ? 0 : rowNumber(reinsert.n, 'n'), keepersRestored, keeperConflicts, childRows };
}

async function requireNoLaterRuns(connection: Db, archiveSchema: string, runId: number): Promise<void> {
  const later = (await laterRunsQuery(archiveSchema, runId).execute(connection)).rows.map((row) => row.run_id);
  if (later.length > 0) {
    throw new UsageError(
      `run(s) ${later.join(', ')} later removed rows that run ${runId} kept; restore ${later.length > 1 ? 'them' : 'it'} first (newest first)`,
    );
  }
}

/** Rows that change shard back: each moved row deleted and its copy with the old values inserted (one statement); the others updated in place. */
async function moveBackByCopy(connection: Db, target: Omit<MovedTarget, 'n'>, distribution: string): Promise<number> {
  const [across, inPlace] = moveBackByCopyStatements(target, distribution);
  const copied = affected(await across!.execute(connection));
  return copied + (inPlace === undefined ? 0 : affected(await inPlace.execute(connection)));
}

function restorableColumns(table: LeadTable, columns: ColumnInfo[]): string[] {
  // Merge never fills a Citus distribution column (Citus cannot change it), so restore never assigns it either.
  const distribution = distributionColumn(table.info.distribution);
  return columns.filter((c) => c.name !== table.idColumn && c.identity === '' && c.name !== distribution).map((c) => c.name);
}

const CONFLICT_SAMPLE = 100;

/** An archive from before merged_data cannot prove any merged column unchanged (restore only reads; clean adds the column). */
async function archiveHasMergedData(connection: Db, archiveSchema: string): Promise<boolean> {
  return (await archiveState(connection, archiveSchema)).keepers_up_to_date;
}

async function archiveState(connection: Db, archiveSchema: string) {
  const state = (await archiveUpToDateQuery(archiveSchema).execute(connection)).rows[0];
  return { keepers_up_to_date: state?.keepers_up_to_date === true, statuses_up_to_date: state?.statuses_up_to_date !== false };
}

const RESTORED_WITH_CONFLICTS = 'restored with conflicts' satisfies RestoredStatus;

function noConflicts(force: boolean): KeeperConflicts {
  return { total: 0, unproven: 0, overwritten: force, sample: [] };
}

function conflictsOf(
  summary: ConflictSummary | undefined,
  sample: { keeper_id: string; column_name: string; current_value: string | null; unproven: boolean }[],
  force: boolean,
): KeeperConflicts {
  return {
    total: rowNumber(summary?.total, 'total'),
    unproven: rowNumber(summary?.unproven, 'unproven'),
    overwritten: force,
    sample: sample.map((row) => ({ keeperId: row.keeper_id, column: row.column_name, current: row.current_value, unproven: row.unproven })),
  };
}

interface RunInfo {
  table: string;
  /** null: a run of the previous version whose schema.name matches no table now. */
  schema: string | null;
  relation: string | null;
  idColumn: string;
  status: string;
}

async function readRun(
  db: Db,
  { schema, runId, commandLine, force }: { schema: string; runId: number; commandLine: CommandLineContext; force: boolean },
): Promise<RunInfo> {
  // to_jsonb(r) reads the schema and name columns without failing on an archive of the previous version, which
  // lacks them; its runs are matched to the catalog by their schema.name text.
  const { rows } = await sql<{ table_name: string; table_schema: string | null; table_relname: string | null; id_column: string | null; status: string }>`
    select r.table_name, coalesce(to_jsonb(r) ->> 'table_schema', m.schema) as table_schema,
           coalesce(to_jsonb(r) ->> 'table_relname', m.name) as table_relname, r.options ->> 'idColumn' as id_column, r.status
    from ${archiveRef(schema, 'lead_dedupe_runs')} as r
    left join lateral (
      select n.nspname::text as schema, c.relname::text as name
      from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      where n.nspname || '.' || c.relname = r.table_name and c.relkind in ('r', 'p')
      order by n.nspname
      limit 1) as m on to_jsonb(r) ->> 'table_schema' is null
    where r.id = ${runId}`.execute(db);
  const row = rows[0];
  if (!row)
    throw new UsageError(`run ${runId} not found in ${schema}.lead_dedupe_runs; the command below lists its runs`, [
      tableCommand(null, ['runs'], schema === 'lead_dedupe' ? [] : ['--archive-schema', schema], commandLine),
    ]);
  if (row.status === 'restored') throw new UsageError(`run ${runId} is already restored`);
  if (row.status === RESTORED_WITH_CONFLICTS && !force) {
    throw new UsageError(
      `run ${runId} is restored with conflicts: merged keeper columns the application changed since the clean were left as they are; restore --force (the command below) puts them back`,
      [
        tableCommand(
          null,
          ['restore', String(runId), '--force'],
          [...(schema === 'lead_dedupe' ? [] : ['--archive-schema', schema]), '--execute'],
          commandLine,
        ),
      ],
    );
  }
  return { table: row.table_name, schema: row.table_schema, relation: row.table_relname, idColumn: row.id_column ?? 'id', status: row.status };
}

async function requireChild(db: Db, schema: string, name: string): Promise<void> {
  if (!(await tableExists(db, schema, name))) {
    throw new RestoreConflictError(`child table ${schema}.${name} no longer exists; nothing was changed`, { runId: null, table: `${schema}.${name}` });
  }
}

/**
 * A statement cancelled that the user did not stop: --statement-timeout, or
 * someone's pg_cancel_backend. A restore is one transaction, so a large
 * run's statements can outlast a limit its batches never met (10M rows: the
 * 645,048 child rows moved back in one UPDATE took 97 s against the default
 * 60; bench/README.md, B27); the rehearsal runs the same statements.
 */
function timedOut(error: unknown, runId: number, statementTimeoutMs: number, executed: boolean): DatabaseError {
  return new DatabaseError(
    `restoring run ${runId} was cancelled by the server (database error 57014: ${firstLineOf(error)}); nothing was changed. ` +
      `A restore is one transaction and its statements can run longer than --statement-timeout (${statementTimeoutMs} ms) ` +
      `on a large run${executed ? '' : ', in the dry run as with --execute'}: run it again with a longer one, e.g. --statement-timeout 30m, or 0 for none`,
  );
}

/**
 * A constraint the restore would violate, on one line: PostgreSQL's whole
 * DETAIL (its key description of an expression index spans lines), that
 * nothing was changed (the restore is one transaction), and for a unique
 * index other than the id's how to restore anyway.
 */
function asConflict(error: unknown, runId: number, restored: LeadTable, commandLine: CommandLineContext): unknown {
  const state = sqlStateOf(error);
  if (state === null || !state.startsWith('23')) return error;
  const { constraint, detail, table, schema, column } = error as { constraint?: string; detail?: string; table?: string; schema?: string; column?: string };
  const conflictTable = schema && table ? `${schema}.${table}` : (table ?? qualifiedName(restored.info));
  if (state === '23502') {
    // A NOT NULL column the archive has no value for (added since the clean without a default, or NOT NULL since): name it, not the row.
    const where = column ? `column ${column} of ${table ?? qualifiedName(restored.info)}` : 'a NOT NULL column';
    return new RestoreConflictError(
      `restoring run ${runId} would leave ${where} NULL, which it does not allow (added or made NOT NULL since the clean?); nothing was changed`,
      { runId, table: conflictTable, column: column ?? null },
    );
  }
  const where = constraint ? `constraint ${constraint}${table ? ` on ${table}` : ''}` : 'a constraint';
  const oneLine = detail ? detail.replace(/\s*\n\s*/g, ' ').trim() : '';
  const what = `restoring run ${runId} would violate ${where}${oneLine !== '' ? ` (${oneLine})` : `: ${firstLineOf(error)}`}; nothing was changed`;
  const onId = oneLine.startsWith(`Key (${restored.idColumn})=`);
  const fields = { runId, table: conflictTable, constraint: constraint ?? null };
  if (state !== '23505' || !constraint || onId) return new RestoreConflictError(what, fields);
  const onTable: LeadTable =
    schema && table && (schema !== restored.info.schema || table !== restored.info.name)
      ? { ...restored, info: { ...restored.info, schema, name: table } }
      : restored;
  const drop = tableCommand(onTable, ['constraint', 'drop', constraint], ['--execute'], commandLine);
  return new RestoreConflictError(
    `${what}; to restore anyway, ${passwordNote('drop it with the command below', commandLine)}, restore again, then add it again with constraint add once the duplicates are resolved`,
    fields,
    [drop],
  );
}

function affected(result: { numAffectedRows?: bigint }): number {
  return Number(result.numAffectedRows ?? 0);
}
