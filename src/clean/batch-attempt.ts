import type { Db } from '../db/database.js';
import { inTransaction } from '../db/transaction.js';
import { updateRunTotalsStatement, type RunTotals } from './sql/archive-sql.js';
import { citusTimeoutsStatements, timeoutsStatement } from './sql/session-sql.js';
import { distributionColumn } from '../db/distribution.js';
import { applyBatch, selectBatch, type BatchChanges } from './batch.js';
import { backoffMs, describeTimeout, isRetryable, sleep } from './batch-retry.js';
import type { CleanContext } from './context.js';
import type { CleanHooks } from './types.js';
import { describeBlockers, type LockWatch } from '../db/lock-waits.js';
import type { CommittedBatch, RunState } from './run-state.js';

/**
 * One batch in its own transaction, retried with backoff while it times out
 * (lock or statement timeout, deadlock); the run adopts it once it commits.
 * Returns false to go on, true when the run must stop here: a signal, or a
 * batch that kept timing out (the reason is recorded on the run). Any other
 * error is thrown, the batch rolled back.
 */
export async function attemptBatch(
  connection: Db,
  work: Db,
  run: RunState,
  batch: number,
  { hooks, locks }: { hooks: CleanHooks; locks: LockWatch },
): Promise<boolean> {
  const { options, references } = run.context;
  for (let attempt = 0; ; attempt++) {
    locks.clear();
    try {
      const started = performance.now();
      const committed = await inTransaction(connection, () => oneBatch(work, run.context, run.runId, batch, run.totals));
      run.committed(committed, performance.now() - started);
      return false;
    } catch (error) {
      const done = run.totals.batchesDone;
      if (hooks.cancel?.aborted) {
        run.stop(
          'interrupted',
          `interrupted during batch ${batch + 1} of ${run.batches}, which was rolled back; ${done} batches are committed and archived, rerun to continue`,
          { batch: batch + 1, error: null },
        );
        return true;
      }
      if (!isRetryable(error, references)) throw error;
      if (hooks.signal?.aborted) {
        // asked to stop: no retry (it would wait out the backoff and another timeout)
        const held = locks.last();
        const why = held.length > 0 ? `was waiting for a lock held by ${describeBlockers(held)} and was rolled back` : 'timed out and was not retried';
        run.stop('interrupted', `interrupted after ${batch} of ${run.batches} batches (batch ${batch + 1} ${why}); rerun to continue`, {
          batch: batch + 1,
          error: describeTimeout(error, options, held),
        });
        return true;
      }
      if (attempt >= options.retries) {
        run.stop(
          'failed',
          `batch ${batch + 1} of ${run.batches} failed ${attempt + 1} times (${describeTimeout(error, options, locks.last())}); ${done} batches are committed and archived, rerun later to continue`,
          { batch: batch + 1, error: describeTimeout(error, options, locks.last()) },
        );
        return true;
      }
      run.retries++;
      await sleep(backoffMs(attempt + 1), hooks.signal);
    }
  }
}

/** One batch, inside its transaction; the new totals are only adopted by the caller once it committed. */
async function oneBatch(connection: Db, context: CleanContext, runId: number, batch: number, totals: RunTotals): Promise<CommittedBatch> {
  const { options } = context;
  await timeoutsStatement(options.lockTimeoutMs, options.statementTimeoutMs, 'transaction').execute(connection);
  if (distributionColumn(options.key.table.info.distribution) !== null) {
    for (const statement of citusTimeoutsStatements(options.lockTimeoutMs, options.statementTimeoutMs)) await statement.execute(connection);
  }
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
