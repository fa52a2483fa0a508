import type { Db } from '../db/database.js';
import { inTransaction } from '../db/transaction.js';
import type { QueryResult } from 'kysely';
import { batchScript, emptyTally, type BatchTally, type Step } from './script.js';
import { backoffMs, describeTimeout, isRetryable, sleep } from './batch-retry.js';
import type { CleanHooks } from './types.js';
import { describeBlockers, type LockWatch } from '../db/lock-waits.js';
import type { RunState } from './run-state.js';

/**
 * One batch in its own transaction (BEGIN/COMMIT on `connection`, its
 * statements on `work`, which refuses them after a second signal), retried with backoff while it times out
 * (lock or statement timeout, deadlock); the run adopts it once it commits.
 * Returns false to go on, true when the run must stop here: a signal, or a
 * batch that kept timing out (the reason is recorded on the run). Any other
 * error is thrown, the batch rolled back.
 */
export async function attemptBatch(
  { connection, work }: { connection: Db; work: Db },
  run: RunState,
  batch: number,
  { hooks, locks }: { hooks: CleanHooks; locks: LockWatch },
): Promise<boolean> {
  const { options, references } = run.context;
  for (let attempt = 0; ; attempt++) {
    locks.clear();
    try {
      const started = performance.now();
      const committed = await inTransaction(connection, () => oneBatch(work, run, batch));
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

/** One batch, inside its transaction: its script, step by step; the new totals are only adopted by the caller once it committed. */
async function oneBatch(connection: Db, run: RunState, batch: number): Promise<BatchTally> {
  const tally = emptyTally(run.totals);
  await runScript(connection, batchScript({ context: run.context, placement: run.placement, runId: run.runId, batch }), tally);
  return tally;
}

/** Runs each step whose condition holds, statement by statement, and lets it read its results. */
export async function runScript<Tally>(connection: Db, script: readonly Step<Tally>[], tally: Tally): Promise<void> {
  for (const step of script) {
    if (step.when !== undefined && !step.when(tally)) continue;
    const results: QueryResult<unknown>[] = [];
    for (const statement of step.statements(tally)) results.push(await statement.execute(connection));
    step.read?.(results, tally);
  }
}
