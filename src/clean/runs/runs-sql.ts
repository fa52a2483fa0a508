import { sql, type RawBuilder } from 'kysely';
import type { RunStatus } from '../model.js';
import { archiveRef } from '../sql/archive-sql.js';

/** A run as the archive holds it (ids and counts as PostgreSQL sends int8: text). */
export interface RunRecord {
  id: string;
  status: RunStatus;
  started_at: string;
  finished_at: string | null;
  restored_at: string | null;
  table_name: string;
  key_name: string;
  key_columns: string[];
  normalize: Record<string, string>;
  nulls_equal: boolean;
  keep: string;
  mode: string;
  groups_planned: string | number;
  groups_done: string | number;
  rows_removed: string | number;
  rows_merged: string | number;
  groups_skipped: string | number;
  child_rows_moved: Record<string, number>;
  batches_done: number;
  db_user: string;
  client_host: string;
  message: string | null;
  options: Record<string, unknown>;
  /** How many runs match the filter, the ones past the limit included. */
  matching: string | number;
}

/** Which runs `runs --table` lists: a table the catalog knows (by schema and name), or one dropped since (as typed). */
export type RunsTableFilter = { schema: string; name: string; qualified: string } | { typed: string } | null;

/**
 * Past runs, newest first, sorted by the bigint id itself (as text, run 9
 * would sort after run 11); times as UTC ISO text. Each row carries how
 * many runs match the filter (a window count, taken before the limit), so
 * the list can say how many it leaves out.
 *
 * Runs record their table's schema and name apart (a schema may hold a
 * dot); an archive of the previous version has only schema.name as text,
 * which to_jsonb reads without failing on the missing columns.
 */
export function listRunsQuery(archiveSchema: string, table: RunsTableFilter, limit: number): RawBuilder<RunRecord> {
  const utc = (column: string) => sql`to_char(${sql.ref(`r.${column}`)} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`;
  const filter =
    table === null
      ? sql`true`
      : 'typed' in table
        ? sql`r.table_name = ${table.typed}`
        : sql`coalesce(to_jsonb(r) ->> 'table_schema' = ${table.schema} and to_jsonb(r) ->> 'table_relname' = ${table.name},
                      r.table_name = ${table.qualified})`;
  return sql<RunRecord>`
    select r.id::text as id, r.status, ${utc('started_at')} as started_at, ${utc('finished_at')} as finished_at, ${utc('restored_at')} as restored_at,
           r.table_name, r.key_name, r.key_columns, r.normalize, r.nulls_equal, r.keep, r.mode, r.groups_planned, r.groups_done, r.rows_removed,
           r.rows_merged, r.groups_skipped, r.child_rows_moved, r.batches_done, r.db_user, r.client_host, r.message, r.options,
           count(*) over () as matching
    from ${archiveRef(archiveSchema, 'lead_dedupe_runs')} as r
    where ${filter}
    order by r.id desc
    limit ${limit}::int8`;
}
