import { stringify } from 'csv-stringify/sync';
import type { RunSummary } from '../../clean/runs/runs.js';
import { CSV_CAST } from '../common/csv-cast.js';

/** One row per run, every field of the JSON report, snake_case headers like the other CSVs. */
export function renderRunsCsv(runs: RunSummary[]): string {
  return stringify(
    runs.map((run) => ({
      id: run.id,
      status: run.status,
      started_at: run.startedAt,
      finished_at: run.finishedAt,
      restored_at: run.restoredAt,
      table: run.table,
      key: run.key,
      key_columns: run.keyColumns.join(' '),
      keep: run.keep,
      mode: run.mode,
      groups_planned: run.groupsPlanned,
      groups: run.groups,
      rows_removed: run.rowsRemoved,
      rows_merged: run.rowsMerged,
      groups_skipped: run.groupsSkipped,
      child_rows_moved: run.childRowsMoved,
      batches_done: run.batchesDone,
      db_user: run.dbUser,
      client_host: run.clientHost,
      message: run.message,
      plan_file: run.plan?.file ?? null,
      plan_id: run.plan?.id ?? null,
      plan_edited: run.plan?.edited ?? null,
    })),
    { header: true, cast: CSV_CAST },
  );
}
