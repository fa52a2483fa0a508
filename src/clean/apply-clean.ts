import type { Database, Db } from '../db/database.js';
import { qualifiedName } from '../db/catalog.js';
import { countOf } from '../db/row-values.js';
import { DatabaseError, LeadDedupeError, SharedSessionError } from '../errors.js';
import { dropStageStatement, stageSummaryQuery } from './sql/stage-sql.js';
import { stagingScript, type StageTally } from './script.js';
import { markInterruptedStatement, updateRunTotalsStatement } from './sql/run-log-sql.js';
import { timeoutsStatement } from './sql/session-sql.js';
import { acquireTableLock, releaseTableLock } from './advisory-lock.js';
import { ensureArchive } from './archive.js';
import { attemptBatch, runScript } from './batch-runner.js';
import { sleep, turnEventLoop } from './batch-retry.js';
import { loadCleanContext, type CleanContext } from './context.js';
import type { CleanHooks, CleanOptions, CleanResult, RunStatus } from './types.js';
import { unindexedChildKeys } from './foreign-keys.js';
import { requirePrivileges } from './permissions.js';
import { recordRunFinish, recordRunStart, type RunSession } from './run-record.js';
import { RunState } from './run-state.js';
import { firstLineOf, sqlStateOf } from '../db/database-error.js';
import { requireWritable } from '../db/read-only.js';
import { abortable } from '../db/abortable.js';
import { inTransaction } from '../db/transaction.js';
import { watchLockWaits } from '../db/lock-waits.js';
import { restoreCommandFor } from '../keys/key-command-line.js';
import { dropPlanTablesStatement } from './plan-file/plan-load-sql.js';
import { loadPlan } from './plan-file/load-plan.js';
import { requirePlanMergeColumns } from './plan-file/plan-match.js';
import { emptySummary } from './plan-file/plan-run.js';
import type { OpenedPlan } from './plan-file/read-plan.js';
import { stagePlan } from './plan-file/stage-plan.js';

export type { CleanHooks } from './types.js';

/**
 * Applies the clean-up in batches of groups, one transaction each, under the
 * table's advisory lock, every change archived in the same transaction.
 * Returns what was done; a stop (a signal, a batch that keeps timing out) is
 * a result with status interrupted/failed and its finish time, not an
 * exception, so the caller can still print the summary. Anything else rolls
 * back the batch in flight, marks the run failed and throws.
 *
 * With `plan` (`clean --plan … --execute`) the groups and keepers are the
 * plan's: it is read and checked first (a bad plan throws before anything
 * changes), then applied by the same batches, each group only if every
 * planned row is unchanged (batch.ts).
 */
export async function applyClean(database: Database, options: CleanOptions, hooks: CleanHooks = {}, plan: OpenedPlan | null = null): Promise<CleanResult> {
  requireWritable(database);
  const context = await loadCleanContext(database, options);
  if (plan !== null) {
    requirePlanMergeColumns(plan, context.mergeColumns);
    context.plan = { source: plan, loaded: null };
  }
  const table = options.key.table;
  await requirePrivileges(database.db, { table, references: context.references, archiveSchema: options.archiveSchema, mode: options.mode });
  const unindexed = unindexedChildKeys(context.references);
  if (unindexed.length > 0) hooks.onUnindexedChildKeys?.(unindexed);
  return database.db.connection().execute(async (connection) => {
    // The staging reads the whole table and locks no rows: no statement timeout; each batch sets --statement-timeout (batch-attempt.ts).
    // In a transaction, checked first like every other (db/transaction.ts): the session's timeouts and the table's lock are then
    // on the server session the run set up, where its batches are checked to run.
    await inTransaction(connection, async () => {
      await timeoutsStatement(options.lockTimeoutMs, 0, 'session').execute(connection);
      await acquireTableLock(connection, table, options.archiveSchema);
    });
    try {
      if (context.plan !== null) context.plan.loaded = await loadPlan(connection, options.key, context.plan.source);
      await ensureArchive(connection, options.archiveSchema);
      await markInterruptedStatement(options.archiveSchema, table.info).execute(connection);
      return await runBatches(database, connection, context, hooks);
    } finally {
      await dropStageStatement()
        .execute(connection)
        .catch(() => undefined);
      if (plan !== null)
        await dropPlanTablesStatement()
          .execute(connection)
          .catch(() => undefined);
      await releaseTableLock(connection, table).catch(() => undefined);
    }
  });
}

/** The run: record it, stage its groups, then batch after batch until done or stopped, and record how it ended. */
async function runBatches(database: Database, connection: Db, context: CleanContext, hooks: CleanHooks): Promise<CleanResult> {
  const { options } = context;
  const session: RunSession = { database, connection };
  // The batches' statements stop at the second signal; BEGIN/ROLLBACK and the run record use the plain connection.
  const work = abortable(connection, hooks.cancel);
  const run = new RunState(context, await recordRunStart(connection, context));
  // Who a waiting batch waits for: on the spinner (hooks.onLockWait) and in the message of a batch that timed out.
  const locks = watchLockWaits(database, hooks.onLockWait);
  if (context.plan?.loaded) run.plan = emptySummary(context.plan.source, context.plan.loaded);
  try {
    await stageGroups(connection, work, run);
    for (let batch = 0; batch < run.batches; batch++) {
      await turnEventLoop();
      if (hooks.signal?.aborted) {
        run.stop('interrupted', `interrupted after ${batch} of ${run.batches} batches; rerun to continue`);
        break;
      }
      if (await attemptBatch({ connection, work }, run, batch, { hooks, locks })) break;
      hooks.onProgress?.(run.progress(batch + 1));
      if (batch + 1 < run.batches) await sleep(options.pauseMs, hooks.signal);
    }
    await recordRunFinish(session, finish(run));
    return run.result();
  } catch (error) {
    return failedRun(session, run, error, hooks);
  } finally {
    locks.stop();
  }
}

/** Every duplicate group's rows, numbered into batches, in a temp table of the session (bench/README.md B4). */
export async function stageGroups(connection: Db, work: Db, run: RunState): Promise<void> {
  const { options } = run.context;
  if (run.plan !== null) {
    await stagePlan(work, options, run.plan);
  } else {
    const staged: StageTally = { groupsTotal: null };
    await runScript(work, stagingScript(options), staged);
    run.groupsTotal = staged.groupsTotal;
  }
  const stage = (await stageSummaryQuery().execute(connection)).rows[0];
  // max() over no staged row is NULL: nothing staged, no group and no batch
  run.totals.groupsPlanned = stage?.groups === null ? 0 : countOf(stage?.groups, 'the staged groups');
  run.batches = stage?.batches === null ? 0 : countOf(stage?.batches, 'the staged batches');
  await updateRunTotalsStatement(options.archiveSchema, run.runId, run.totals).execute(connection);
  run.staged = true;
}

/**
 * A run that ended on an error: after the second signal it is an interrupted
 * run like any other; otherwise it is marked failed and the error says where
 * (staging, or which batch), what is committed and how to undo it.
 */
async function failedRun(session: RunSession, run: RunState, error: unknown, hooks: CleanHooks): Promise<CleanResult> {
  const { archiveSchema } = run.context.options;
  const done = run.totals.batchesDone;
  if (hooks.cancel?.aborted) {
    // the second signal cancelled staging or the statement between batches
    run.stop(
      'interrupted',
      run.staged
        ? `interrupted after ${done} of ${run.batches} batches; rerun to continue`
        : 'interrupted while staging the duplicate groups; nothing was changed',
    );
    await recordRunFinish(session, finish(run));
    return run.result();
  }
  // Before the staging finished there is no batch yet ("batch 1 of 0"): say it was the staging.
  const where = run.staged ? `batch ${done + 1} of ${run.batches}` : 'staging the duplicate groups';
  const message = `${where} failed: ${stagingError(error, run)}`;
  if (!run.staged && isTimeout(error)) {
    // like a batch that keeps timing out: a failed run with its summary, not an exception
    run.stop('failed', `${message}; nothing was changed, rerun later`, { batch: null, error: stagingError(error, run) });
    await recordRunFinish(session, finish(run));
    return run.result();
  }
  await recordRunFinish(session, { ...finish(run), status: 'failed', message }).catch(() => undefined);
  // The session check stops a batch before its first statement: with batches committed that is no "nothing was changed" exit 2.
  if (error instanceof LeadDedupeError && !(error instanceof SharedSessionError && done > 0)) throw error;
  const state = sqlStateOf(error);
  const committed = done > 0 ? `${done} earlier batches are committed and archived; undo them with the restore below` : 'nothing was changed';
  throw new DatabaseError(
    `clean run ${run.runId}: ${state ? `database error ${state} in ` : ''}${message}; it was rolled back, ${committed}`,
    done > 0 ? [restoreCommandFor(run.runId, archiveSchema, { execute: true }, hooks.commandLine)] : [],
  );
}

function isTimeout(error: unknown): boolean {
  const state = sqlStateOf(error);
  return state === '55P03' || state === '57014';
}

/** The error's first line; a lock timeout before any batch waited on a table lock, not on rows: say whose flag bounds it. */
function stagingError(error: unknown, run: RunState): string {
  if (run.staged || sqlStateOf(error) !== '55P03') return firstLineOf(error);
  const table = qualifiedName(run.context.options.key.table.info);
  return `could not lock ${table} within --lock-timeout ${run.context.options.lockTimeoutMs} ms (another session holds a conflicting lock on it)`;
}

/** How the run ended, for the run log. */
function finish(run: RunState): { schema: string; runId: number; status: RunStatus; message: string | null } {
  return { schema: run.context.options.archiveSchema, runId: run.runId, status: run.status, message: run.stoppedBecause };
}
