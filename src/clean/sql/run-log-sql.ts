import { sql, type RawBuilder } from 'kysely';
import type { RunStatus } from '../model.js';
import { archiveRef } from './archive-sql.js';

/** The run log (lead_dedupe_runs): a run's row, written when it starts, after each batch and when it ends. */

export interface NewRun {
  /** schema.name, for people; schema and relation are what restore and runs look the table up by. */
  table: string;
  schema: string;
  relation: string;
  keyName: string;
  keyColumns: string[];
  normalize: Record<string, string>;
  nullsEqual: boolean;
  keep: string;
  mode: string;
  options: Record<string, unknown>;
}

export function insertRunStatement(schema: string, run: NewRun): RawBuilder<{ id: string | number }> {
  return sql`insert into ${archiveRef(schema, 'lead_dedupe_runs')}
  (status, table_name, table_schema, table_relname, key_name, key_columns, normalize, nulls_equal, keep, mode, options)
values ('running', ${run.table}, ${run.schema}, ${run.relation}, ${run.keyName}, ${run.keyColumns}::text[], ${JSON.stringify(run.normalize)}::jsonb, ${run.nullsEqual},
        ${run.keep}, ${run.mode}, ${JSON.stringify(run.options)}::jsonb)
returning id`;
}

/** The run's running totals, written in the batch's own transaction (so they always match what is archived). */
export interface RunTotals {
  groupsPlanned: number;
  groupsDone: number;
  rowsRemoved: number;
  rowsMerged: number;
  groupsSkipped: number;
  childRowsMoved: Record<string, number>;
  batchesDone: number;
}

export function updateRunTotalsStatement(schema: string, runId: number, totals: RunTotals): RawBuilder<unknown> {
  return sql`update ${archiveRef(schema, 'lead_dedupe_runs')}
set groups_planned = ${totals.groupsPlanned}, groups_done = ${totals.groupsDone}, rows_removed = ${totals.rowsRemoved},
    rows_merged = ${totals.rowsMerged}, groups_skipped = ${totals.groupsSkipped},
    child_rows_moved = ${JSON.stringify(totals.childRowsMoved)}::jsonb, batches_done = ${totals.batchesDone}
where id = ${runId}`;
}

export function finishRunStatement(schema: string, runId: number, status: RunStatus, message: string | null): RawBuilder<unknown> {
  return sql`update ${archiveRef(schema, 'lead_dedupe_runs')}
set status = ${status}, finished_at = clock_timestamp(), message = ${message}
where id = ${runId}`;
}

/**
 * Runs of this table still marked running once we hold its advisory lock
 * died without finishing (killed, connection lost): their committed batches
 * are archived, the rest was rolled back.
 */
export function markInterruptedStatement(schema: string, table: { schema: string; name: string }): RawBuilder<unknown> {
  return sql`update ${archiveRef(schema, 'lead_dedupe_runs')}
set status = 'interrupted', finished_at = coalesce(finished_at, clock_timestamp()),
    message = coalesce(message, 'the process ended without finishing; committed batches are archived')
where table_schema = ${table.schema} and table_relname = ${table.name} and status = 'running'`;
}
