import { sql, type RawBuilder } from 'kysely';
import type { ResolvedKey } from '../../keys/key-definition.js';
import { columnRef, groupIdOf, oldestFirst, sameKey, tableRef } from '../../keys/key-sql.js';
import { duplicateGroupsQuery, groupMemberKeys } from '../../sql/duplicate-groups.js';
import { textLiteral } from '../../db/literal.js';

/** Columns of the details export before the table's own columns. */
export const DETAIL_COLUMNS = ['key', 'group_id', 'group_size', 'rank_in_group', 'keep'] as const;

/**
 * Every row that sits in a duplicate group, oldest first within its group,
 * with the group's stable id and whether the default keeper (the oldest)
 * would keep it. Every value is text, so the CSV shows exactly what
 * PostgreSQL stores (no JavaScript Date rounding) and COPY and the cursor
 * path write the same bytes. Timestamps are written as JSON writes them, ISO 8601 with
 * the offset (2026-10-26T11:52:13.830199+00:00), the same text as --export-removed (which
 * reads them from the archive's jsonb), so every CSV the tool writes has one timestamp format.
 *
 * Plan notes (EXPLAIN ANALYZE at 1M rows): the groups are a MATERIALIZED
 * CTE, or a parallel plan rebuilds the whole aggregate in every worker. The
 * rows are picked by EXISTS, not joined to the groups: the groups CTE has no
 * statistics, so a plain join hashed the whole table (32 batches, 111 MB of
 * temporary files) and probed it with the 43,040 groups; the semi-join
 * hashes the groups (one batch, 2.5 MB) and streams the table past them
 * (bench/README.md, round 8). The group's size is then a count over the
 * group's window, which the same sort serves, and the ORDER BY repeats the
 * window's ordering, so one sort serves all three. The CSV is byte for byte
 * the join's (test/integration/scan-details-report.test.ts).
 */
export function detailsQuery(key: ResolvedKey): RawBuilder<Record<string, unknown>> {
  const distributed = key.table.info.distribution?.kind === 'distributed';
  const groupValues = groupMemberKeys(key);
  const tableColumns = key.table.info.columns.map((c) =>
    c.type.startsWith('timestamp')
      ? sql`to_json(${columnRef(c.name, 'l')}) #>> '{}' as ${sql.id(c.name)}`
      : sql`${columnRef(c.name, 'l')}::text as ${sql.id(c.name)}`,
  );
  const groupOrder = sql`${sql.join(groupValues)}, ${oldestFirst(key.table, 'l')}`;
  const select = (groupSize: RawBuilder<unknown>) => sql`select ${textLiteral(key.name)} as key,
       ${groupIdOf(groupValues)} as group_id,
       ${groupSize} as group_size,
       row_number() over in_group as rank_in_group,
       (row_number() over in_group = 1)::text as keep,
       ${sql.join(tableColumns)}
from ${tableRef(key.table)} as l`;
  const groups = sql`with groups as materialized (
${duplicateGroupsQuery(key)}
)`;
  // A Citus distributed table keeps the join, the form its planner was tested with (test/integration/citus-scan.test.ts).
  if (distributed) {
    return sql<Record<string, unknown>>`${groups}
${select(sql`g.n::text`)}
join groups as g on ${sameKey(key, 'l', 'g')}
window in_group as (partition by ${sql.join(groupValues)} order by ${oldestFirst(key.table, 'l')})
order by ${groupOrder}`;
  }
  return sql<Record<string, unknown>>`${groups}
${select(sql`(count(*) over in_key)::text`)}
where exists (select from groups as g where ${sameKey(key, 'l', 'g')})
window in_key as (partition by ${sql.join(groupValues)}),
       in_group as (in_key order by ${oldestFirst(key.table, 'l')})
order by ${groupOrder}`;
}

/** The export as PostgreSQL's own CSV (COPY … TO STDOUT), with the header on the first key only. */
export function detailsCopyStatement(key: ResolvedKey, header: boolean): RawBuilder<unknown> {
  return sql`copy (${detailsQuery(key)}) to stdout with (format csv, header ${sql.lit(header)})`;
}
