import { sql } from 'kysely';
import type { Database, Db } from '../../db/database.js';
import { toNumber } from '../../db/database.js';
import { qualifiedName } from '../../db/catalog.js';
import { DatabaseError, LeadDedupeError } from '../../errors.js';
import { dropStageStatement, stageStatements, stageSummaryQuery } from '../../sql/clean-plan.js';
import {
  finishRunStatement,
  insertRunStatement,
  markInterruptedStatement,
  updateRunTotalsStatement,
  type RunTotals,
} from '../../sql/archive-plan.js';
import { describeNormalize } from '../../keys/key-summary.js';
import { acquireTableLock, releaseTableLock } from './advisory-lock.js';
import { ensureArchive } from './archive.js';
import { applyBatch, selectBatch, type BatchChanges, type BatchSelection } from './batch.js';
import { loadCleanContext, type CleanContext } from './clean-context.js';
import type { CleanOptions, CleanProgress, CleanResult, RunStatus, SkippedGroup, UnindexedChildKey } from './clean-types.js';
import { unindexedChildKeys } from './foreign-keys.js';
import { requirePrivileges } from './permissions.js';
import { firstLineOf, sqlStateOf } from '../../db/database-error.js';
import { inTransaction } from '../../db/transaction.js';
import { requireWritable } from '../../db/read-only.js';
import { abortable } from '../../db/abortable.js';
import { isRetryable, setLocalTimeouts, setSessionTimeouts, sleep, turnEventLoop } from './transaction.js';

export interface CleanHooks {
  /** The first SIGINT/SIGTERM: the run stops after the batch in flight and reports. */
  signal?: AbortSignal;
  /**
   * The second: no further statement of the batch in flight runs, so it rolls
   * back (the caller cancels the one running, Database.cancel), and the run
   * stops and reports.
   */
  cancel?: AbortSignal;
  onProgress?: (progress: CleanProgress) => void;
  /** Before the first change: child foreign keys without an index (each batch will scan those children). */
  onUnindexedChildKeys?: (keys: UnindexedChildKey[]) => void;
}

/**
 * Applies the clean-up in batches of groups, one transaction each, under the
 * table's advisory lock, every change archived in the same transaction.
 * Returns what was done; a stop (a signal, a batch that keeps timing out) is
 * a result with status interrupted/failed and its finish time, not an
 * exception, so the caller can still print the summary. Anything else rolls back the batch in flight,
 * marks the run failed and throws.
 */
export async function applyClean(database: Database, options: CleanOptions, hooks: CleanHooks = {}): Promise<CleanResult> {
  requireWritable(database);
  const context = await loadCleanContext(database, options);
  const table = options.key.table;
  await requirePrivileges(database.db, { table, references: context.references, archiveSchema: options.archiveSchema, mode: options.mode });
  const unindexed = unindexedChildKeys(context.references);
  if (unindexed.length > 0) hooks.onUnindexedChildKeys?.(unindexed);
  return database.db.connection().execute(async (connection) => {
    await setSessionTimeouts(connection, options.lockTimeoutMs, options.statementTimeoutMs);
    await acquireTableLock(connection, table, options.archiveSchema);
    try {
      await ensureArchive(connection, options.archiveSchema);
      await markInterruptedStatement(options.archiveSchema, table.info).execute(connection);
      return await runBatches(database, connection, context, hooks);
    } finally {
      await dropStageStatement().execute(connection).catch(() => undefined);
      await releaseTableLock(connection, table).catch(() => undefined);
    }
  });
}

async function runBatches(database: Database, connection: Db, context: CleanContext, hooks: CleanHooks): Promise<CleanResult> {
  const { options } = context;
  // The batches' statements stop at the second signal; BEGIN/ROLLBACK and the run record use the plain connection.
  const work = abortable(connection, hooks.cancel);
  const { key, archiveSchema } = options;
  const started = performance.now();
  const runId = toNumber((await insertRunStatement(archiveSchema, {
    table: qualifiedName(key.table.info),
    schema: key.table.info.schema,
    relation: key.table.info.name,
    keyName: key.name,
    keyColumns: key.columns.map((c) => c.column),
    normalize: describeNormalize(key),
    nullsEqual: key.nullsEqual,
    keep: options.keep,
    mode: options.mode,
    options: {
      mergeRules: options.mergeRules,
      mergeColumns: context.mergeColumns.map((c) => `${c.name}=${c.rule}`),
      batchSize: options.batchSize,
      batchRows: options.batchRows,
      maxGroups: options.maxGroups,
      pauseMs: options.pauseMs,
      lockTimeoutMs: options.lockTimeoutMs,
      statementTimeoutMs: options.statementTimeoutMs,
      defaultCountry: key.defaultCountry,
      idColumn: key.table.idColumn,
      createdColumn: key.table.createdColumn,
      childReferences: context.references.map((r) => `${r.schema}.${r.table}.${r.column} (${r.constraint}, on delete ${r.onDelete})`),
    },
  }).execute(connection)).rows[0]?.id);
  const totals: RunTotals = { groupsPlanned: 0, groupsDone: 0, rowsRemoved: 0, rowsMerged: 0, groupsSkipped: 0, childRowsMoved: {}, batchesDone: 0 };
  for (const reference of context.references) totals.childRowsMoved[`${reference.schema}.${reference.table}`] = 0;
  const skipped: SkippedGroup[] = [];
  let retries = 0;
  let batches = 0;
  let longestBatchMs = 0;
  let largestBatchRows = 0;
  let stoppedBecause: string | null = null;
  let status: RunStatus = 'done';
  const result = (): CleanResult => ({
    runId,
    status,
    table: qualifiedName(key.table.info),
    key: key.name,
    keep: options.keep,
    mode: options.mode,
    groupsPlanned: totals.groupsPlanned,
    groups: totals.groupsDone,
    rowsRemoved: totals.rowsRemoved,
    rowsMerged: totals.rowsMerged,
    childRows: context.references.map((r) => ({
      table: `${r.schema}.${r.table}`,
      constraint: r.constraint,
      column: r.column,
      rows: totals.childRowsMoved[`${r.schema}.${r.table}`] ?? 0,
    })),
    skippedGroups: totals.groupsSkipped,
    skipped: skipped.slice(0, 20),
    batches,
    batchesDone: totals.batchesDone,
    retries,
    longestBatchMs: Math.round(longestBatchMs),
    largestBatchRows,
    archiveSchema,
    unindexedChildKeys: unindexedChildKeys(context.references),
    stoppedBecause,
    durationMs: Math.round(performance.now() - started),
  });
  try {
    for (const statement of stageStatements(key, options.batchSize, options.batchRows, options.maxGroups)) await statement.execute(work);
    const stage = (await stageSummaryQuery().execute(connection)).rows[0];
    totals.groupsPlanned = toNumber(stage?.groups);
    batches = toNumber(stage?.batches);
    await updateRunTotalsStatement(archiveSchema, runId, totals).execute(connection);
    for (let batch = 0; batch < batches; batch++) {
      await turnEventLoop();
      if (hooks.signal?.aborted) {
        status = 'interrupted';
        stoppedBecause = `interrupted after ${batch} of ${batches} batches; rerun to continue`;
        break;
      }
      let attempt = 0;
      for (;;) {
        try {
          const batchStarted = performance.now();
          const next = await inTransaction(connection, () => oneBatch(work, context, runId, batch, totals));
          longestBatchMs = Math.max(longestBatchMs, performance.now() - batchStarted);
          largestBatchRows = Math.max(largestBatchRows, next.selection.locked);
          Object.assign(totals, next.totals);
          skipped.push(...next.selection.skipped);
          break;
        } catch (error) {
          if (hooks.cancel?.aborted) {
            status = 'interrupted';
            stoppedBecause = `interrupted during batch ${batch + 1} of ${batches}, which was rolled back; ${totals.batchesDone} batches are committed and archived, rerun to continue`;
            break;
          }
          if (!isRetryable(error, context.references)) throw error;
          if (hooks.signal?.aborted) {
            // asked to stop: no retry (it would wait out the backoff and another timeout)
            status = 'interrupted';
            stoppedBecause = `interrupted after ${batch} of ${batches} batches (batch ${batch + 1} timed out and was not retried); rerun to continue`;
            break;
          }
          if (attempt >= options.retries) {
            status = 'failed';
            stoppedBecause = `batch ${batch + 1} of ${batches} failed ${attempt + 1} times (${describeTimeout(error, options)}); ${totals.batchesDone} batches are committed and archived, rerun later to continue`;
            break;
          }
          attempt++;
          retries++;
          await sleep(backoffMs(attempt), hooks.signal);
        }
      }
      if (status !== 'done') break;
      hooks.onProgress?.({ batch: batch + 1, batches, groupsDone: totals.groupsDone, rowsRemoved: totals.rowsRemoved, elapsedMs: performance.now() - started });
      if (batch + 1 < batches) await sleep(options.pauseMs, hooks.signal);
    }
    await recordFinish(database, connection, archiveSchema, runId, status, stoppedBecause);
    return result();
  } catch (error) {
    if (hooks.cancel?.aborted) {
      // the second signal cancelled staging or the statement between batches
      status = 'interrupted';
      stoppedBecause = `interrupted after ${totals.batchesDone} of ${batches} batches; rerun to continue`;
      await recordFinish(database, connection, archiveSchema, runId, status, stoppedBecause);
      return result();
    }
    const message = `batch ${totals.batchesDone + 1} of ${batches} failed: ${firstLineOf(error)}`;
    await recordFinish(database, connection, archiveSchema, runId, 'failed', message).catch(() => undefined);
    if (error instanceof LeadDedupeError) throw error;
    const state = sqlStateOf(error);
    const undo = totals.batchesDone > 0 ? `; undo them with: lead-dedupe restore ${runId} --execute` : '';
    throw new DatabaseError(
      `clean run ${runId}: ${state ? `database error ${state} in ` : ''}${message}; it was rolled back, ${totals.batchesDone} earlier batches are committed and archived${undo}`,
    );
  }
}

/**
 * Marks the run finished. The cancel sent at a second signal can land on this
 * statement, or leave the session's transaction aborted: then roll back and
 * try again, and on a server try once more on another session (the batch's
 * row lock on the run record is gone with the rollback or the session).
 */
async function recordFinish(database: Database, connection: Db, schema: string, runId: number, status: RunStatus, message: string | null): Promise<void> {
  const statement = finishRunStatement(schema, runId, status, message);
  try {
    await statement.execute(connection);
  } catch (error) {
    await sql`rollback`.execute(connection).catch(() => undefined);
    try {
      await statement.execute(connection);
    } catch {
      if (database.features.driver !== 'postgres') throw error;
      await statement.execute(database.db);
    }
  }
}

/** One batch, inside its transaction; the new totals are only adopted by the caller once it committed. */
async function oneBatch(connection: Db, context: CleanContext, runId: number, batch: number, totals: RunTotals): Promise<{ selection: BatchSelection; totals: RunTotals }> {
  const { options } = context;
  await setLocalTimeouts(connection, options.lockTimeoutMs, options.statementTimeoutMs);
  const selection = await selectBatch(connection, context, batch, true);
  const nothing = selection.victims === 0 && selection.skipped.length === 0;
  const changes: BatchChanges = nothing ? { removed: 0, merged: 0, moved: [] } : await applyBatch(connection, context, runId, batch, selection);
  const next: RunTotals = {
    ...totals,
    groupsDone: totals.groupsDone + selection.groups,
    rowsRemoved: totals.rowsRemoved + changes.removed,
    rowsMerged: totals.rowsMerged + changes.merged,
    groupsSkipped: totals.groupsSkipped + selection.skipped.length,
    childRowsMoved: { ...totals.childRowsMoved },
    batchesDone: totals.batchesDone + 1,
  };
  for (const moved of changes.moved) next.childRowsMoved[moved.table] = (next.childRowsMoved[moved.table] ?? 0) + moved.rows;
  await updateRunTotalsStatement(options.archiveSchema, runId, next).execute(connection);
  return { selection, totals: next };
}

/** 0.5 s, 1 s, 2 s, …: gives the writers that hold the locks time to finish. */
function backoffMs(attempt: number): number {
  return 500 * 2 ** (attempt - 1);
}

function describeTimeout(error: unknown, options: CleanOptions): string {
  switch (sqlStateOf(error)) {
    case '55P03':
      return `could not lock its rows within --lock-timeout ${options.lockTimeoutMs} ms`;
    case '57014':
      return `a statement ran longer than --statement-timeout ${options.statementTimeoutMs} ms`;
    default:
      return firstLineOf(error);
  }
}

