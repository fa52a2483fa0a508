import { sql, type RawBuilder } from 'kysely';
import { columnRef, tableRef } from '../../keys/key-sql.js';
import { DRY_RUN_CTE, dryRunCtes, type DryRunSettings } from '../sql/preview-sql.js';
import { mergeSourcesQuery } from '../sql/merge-sql.js';
import { movedRowsFrom } from '../sql/child-rows-sql.js';
import { rowFingerprint } from './plan-fingerprint-sql.js';

/** One line of the plan as PostgreSQL sends it: a group, or a group skipped at planning. */
export interface PlanExportRow {
  kind: 'group' | 'skipped';
  group_id: string;
  key_values: unknown[] | null;
  keeper: string | null;
  /** Keeper first, then the rows to remove, in rank order. */
  ids: string[] | null;
  /** Aligned with ids. */
  fingerprints: string[] | null;
  /** Merge mode: column → id of the row that fills it. */
  merge: Record<string, string> | null;
  /** Per child foreign key (in the references' order): rows re-pointed to the keeper. */
  children: (string | number)[] | null;
  reason: string | null;
  /** The stage's batch count (the same on every row), as the dry run counts it. */
  batches: number | null;
  /** With `rowValues`, aligned with ids: each row's values of planStoredColumns, as JSON. */
  row_values: unknown[][] | null;
}

/** What --plan-csv shows of each row, for a reviewer to see why it is kept: the key columns as stored, then the created column (when the table has one). */
export function planStoredColumns(key: DryRunSettings['key']): string[] {
  const columns = key.columns.map((column) => column.column);
  const created = key.table.createdColumn;
  return created === null || columns.includes(created) ? columns : [...columns, created];
}

/**
 * `clean --plan-out`: the dry run's own chain of CTEs (clean/sql/preview-sql.ts), so
 * the plan holds exactly the groups, keepers and skips the dry run counts,
 * then one row per group with every row's fingerprint (read in this same
 * statement, where ld_locked reads the row), the merge donors and the child
 * rows per foreign key, and one row per skipped group. Read through a cursor:
 * memory stays flat.
 *
 *   with <dry run CTEs, ld_locked and ld_members with md5("l"::text) as fingerprint>
 *   select 'group' as kind, m.group_id, m.key_values, m.keeper_id::text as keeper,
 *          json_agg(m.row_id::text order by m.rank_in_group) as ids,
 *          json_agg(m.fingerprint order by m.rank_in_group) as fingerprints,
 *          (select jsonb_object_agg(ld_keeper_id::text, sources) from (<merge sources>) as ms) -> m.keeper_id::text as merge,
 *          array[coalesce(((select jsonb_object_agg(group_id, n) from (<moved rows per group>) as n) ->> m.group_id)::int8, 0)] as children,
 *          null as reason,
 *          jsonb_agg(jsonb_build_array(l.device_id, l.phone, l.created_at) order by m.rank_in_group) as row_values   -- only for --plan-csv
 *   from ld_members as m
 *   join "public"."leads" as l on "l"."id" = m.row_id   -- only for --plan-csv
 *   group by m.key_values, m.group_id, m.keeper_id
 *   union all
 *   select 'skipped', group_id, null as key_values, …, reason from ld_skipped
 *   order by key_values, group_id
 *
 * The groups come first, by key, then the skipped groups by id, as `order by
 * kind, key_values, group_id` would put them: a group's key_values is never
 * NULL, a skipped line's always is, and NULLs sort last. Grouping by
 * key_values first makes the aggregate's one sort of the members (by key,
 * then group) also the order the lines leave in, so a Merge Append streams
 * them to the cursor as the groups are built: no second sort of the members
 * by group, no final sort of the lines, and the first FETCH returns before
 * the last group is aggregated (bench/README.md, round 8). The merge donors
 * and child counts are subqueries run once, each one jsonb object looked up
 * by keeper or group, never a join: the planner guesses the members at a
 * few rows, and joined them to the per-group counts by a nested loop over
 * both (B29).
 */
export function planExportQuery(
  settings: Omit<DryRunSettings, 'sampleGroups'>,
  options: { rowValues: boolean } = { rowValues: false },
): RawBuilder<PlanExportRow> {
  const { key, references, mergeColumns } = settings;
  const table = key.table;
  // --plan-csv: what a reviewer needs to see why a row is kept (the stored spelling, the created time), read in the same statement
  const rowValues = options.rowValues
    ? sql`jsonb_agg(jsonb_build_array(${sql.join(planStoredColumns(key).map((column) => columnRef(column, 'l')))}) order by m.rank_in_group)`
    : sql`null::jsonb`;
  const members = DRY_RUN_CTE.members;
  // Per keeper and per group, looked up in one jsonb object each, built once: a join to these per-key results was a
  // nested loop over both whenever the planner guessed the members at a few rows (3.7 billion comparisons at 1M rows).
  const merge =
    mergeColumns.length === 0
      ? sql`null::jsonb`
      : sql`(select jsonb_object_agg(ms.ld_keeper_id::text, ms.sources) from (${mergeSourcesQuery(table, mergeColumns, DRY_RUN_CTE.donors)}) as ms) -> m.keeper_id::text`;
  const counts = references.map(
    (reference) => sql`coalesce(((select jsonb_object_agg(n.group_id, n.n) from (select m.group_id, count(*) as n
  ${movedRowsFrom(reference, table.idColumn, { allBatches: true, members })}
  group by m.group_id) as n) ->> m.group_id)::int8, 0)`,
  );
  const batches = sql`(select max(batch_no) + 1 from ${DRY_RUN_CTE.stage})`;
  const children = counts.length === 0 ? sql`null::int8[]` : sql`array[${sql.join(counts)}]::int8[]`;
  // the stored values are read again by id only for --plan-csv; the fingerprint comes with the member (dryRunCtes)
  const stored = options.rowValues ? sql`join ${tableRef(table)} as l on ${columnRef(table.idColumn, 'l')} = m.row_id\n` : sql``;
  // json, not text[]: the client parses a json array natively, a text[] character by character
  return sql<PlanExportRow>`${dryRunCtes(settings, { fingerprint: rowFingerprint('l') })}
select 'group'::text as kind, m.group_id, m.key_values, m.keeper_id::text as keeper,
       json_agg(m.row_id::text order by m.rank_in_group) as ids,
       json_agg(m.fingerprint order by m.rank_in_group) as fingerprints,
       ${merge} as merge, ${children} as children, null::text as reason, ${batches} as batches, ${rowValues} as row_values
from ${members} as m
${stored}group by m.key_values, m.group_id, m.keeper_id
union all
select 'skipped'::text, group_id, null::jsonb, null::text, null::json, null::json, null::jsonb, null::int8[], reason, ${batches}, null::jsonb
from ${DRY_RUN_CTE.skipped}
order by key_values, group_id`;
}
