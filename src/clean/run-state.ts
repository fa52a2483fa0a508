import { qualifiedName } from '../db/catalog.js';
import type { RunTotals } from './sql/run-log-sql.js';
import type { BatchTally } from './script.js';
import { choosePlacement, type Placement } from './placement.js';
import type { CleanContext } from './context.js';
import type { CleanProgress, CleanResult, CleanStop, RunStatus, SkippedGroup } from './types.js';
import { unindexedChildKeys } from './foreign-keys.js';
import type { PlanApplySummary } from './types.js';
import { STALE_CHANGED, STALE_GONE } from './plan-file/plan-batch-sql.js';

/**
 * What one clean run has done so far, adopted batch by batch once each
 * commits, and how it ended: the one place the result is assembled from.
 */
export class RunState {
  readonly started = performance.now();
  totals: RunTotals = { groupsPlanned: 0, groupsDone: 0, rowsRemoved: 0, rowsMerged: 0, groupsSkipped: 0, childRowsMoved: {}, batchesDone: 0 };
  readonly skipped: SkippedGroup[] = [];
  batches = 0;
  /** The duplicate groups are staged (cut into batches): `batches` is known. */
  staged = false;
  /** Duplicate groups before the --max-groups cap; null when the run was not capped. */
  groupsTotal: number | null = null;
  retries = 0;
  private longestBatchMs = 0;
  private largestBatchRows = 0;
  status: RunStatus = 'done';
  stoppedBecause: string | null = null;
  /** Where the run stopped and on what error (stop()). */
  private stoppedAt: { batch: number | null; error: string | null } = { batch: null, error: null };
  /** Applying a plan: its summary, counted as batches commit. */
  plan: PlanApplySummary | null = null;

  /** Where the table lives: chosen once, from its distribution, when the run starts. */
  readonly placement: Placement;

  constructor(
    readonly context: CleanContext,
    readonly runId: number,
  ) {
    this.placement = choosePlacement(context.options.key);
    for (const reference of context.references) this.totals.childRowsMoved[`${reference.schema}.${reference.table}`] = 0;
  }

  /** A batch committed: its tally holds what it did and the run's totals after it. */
  committed(batch: BatchTally, ms: number): void {
    this.longestBatchMs = Math.max(this.longestBatchMs, ms);
    this.largestBatchRows = Math.max(this.largestBatchRows, batch.locked);
    this.totals = batch.totals;
    this.skipped.push(...batch.skipped);
    if (this.plan !== null) {
      for (const { reason } of batch.skipped) {
        if (reason.startsWith(STALE_CHANGED)) this.plan.staleChanged++;
        else if (reason.startsWith(STALE_GONE)) this.plan.staleGone++;
      }
    }
  }

  /** `at`: the batch (1-based) that failed or was rolled back, and the error; none for a stop between batches. */
  stop(status: RunStatus, because: string, at: { batch: number | null; error: string | null } = { batch: null, error: null }): void {
    this.status = status;
    this.stoppedBecause = because;
    this.stoppedAt = at;
  }

  private stopSummary(): CleanStop | null {
    if (this.status === 'done') return null;
    const { totals } = this;
    return {
      ...this.stoppedAt,
      staged: this.staged,
      batchesLeft: Math.max(0, this.batches - totals.batchesDone),
      groupsLeft: Math.max(0, totals.groupsPlanned - totals.groupsDone - totals.groupsSkipped),
    };
  }

  progress(batch: number): CleanProgress {
    return {
      batch,
      batches: this.batches,
      groupsDone: this.totals.groupsDone,
      rowsRemoved: this.totals.rowsRemoved,
      elapsedMs: performance.now() - this.started,
    };
  }

  result(): CleanResult {
    const { options, references } = this.context;
    const { totals } = this;
    return {
      runId: this.runId,
      status: this.status,
      table: qualifiedName(options.key.table.info),
      key: options.key.name,
      keep: options.keep,
      mode: options.mode,
      groupsPlanned: totals.groupsPlanned,
      groups: totals.groupsDone,
      groupsRemaining: this.groupsTotal === null ? null : Math.max(0, this.groupsTotal - totals.groupsDone),
      rowsRemoved: totals.rowsRemoved,
      rowsMerged: totals.rowsMerged,
      childRows: references.map((r) => ({
        table: `${r.schema}.${r.table}`,
        constraint: r.constraint,
        column: r.column,
        rows: totals.childRowsMoved[`${r.schema}.${r.table}`] ?? 0,
      })),
      skippedGroups: totals.groupsSkipped,
      skipped: this.skipped.slice(0, 20),
      batches: this.batches,
      batchesDone: totals.batchesDone,
      retries: this.retries,
      longestBatchMs: Math.round(this.longestBatchMs),
      largestBatchRows: this.largestBatchRows,
      archiveSchema: options.archiveSchema,
      unindexedChildKeys: unindexedChildKeys(references),
      stoppedBecause: this.stoppedBecause,
      stop: this.stopSummary(),
      durationMs: Math.round(performance.now() - this.started),
      plan: this.plan,
    };
  }
}
