import { sql, type RawBuilder } from 'kysely';
import type { ResolvedKey } from '../../keys/key-definition.js';
import { columnRef, groupIdOf, keyAliases, oldestFirst, sameKey, tableRef } from '../../keys/key-sql.js';
import { duplicateGroupsQuery } from '../../sql/duplicate-groups.js';
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
 * CTE, or a parallel plan rebuilds the whole aggregate in every worker; and
 * the ORDER BY repeats the window's ordering, so one sort serves both.
 */
export function detailsQuery(key: ResolvedKey): RawBuilder<Record<string, unknown>> {
  const groupValues = keyAliases(key).map((alias) => sql.id('g', alias));
  const tableColumns = key.table.info.columns.map((c) =>
    c.type.startsWith('timestamp')
      ? sql`to_json(${columnRef(c.name, 'l')}) #>> '{}' as ${sql.id(c.name)}`
      : sql`${columnRef(c.name, 'l')}::text as ${sql.id(c.name)}`,
  );
  const groupOrder = sql`${sql.join(groupValues)}, ${oldestFirst(key.table, 'l')}`;
  return sql<Record<string, unknown>>`with groups as materialized (
${duplicateGroupsQuery(key)}
)
select ${textLiteral(key.name)} as key,
       ${groupIdOf(groupValues)} as group_id,
       g.n::text as group_size,
       row_number() over in_group as rank_in_group,
       (row_number() over in_group = 1)::text as keep,
       ${sql.join(tableColumns)}
from ${tableRef(key.table)} as l
join groups as g on ${sameKey(key, 'l', 'g')}
window in_group as (partition by ${sql.join(groupValues)} order by ${oldestFirst(key.table, 'l')})
order by ${groupOrder}`;
}

/** The export as PostgreSQL's own CSV (COPY … TO STDOUT), with the header on the first key only. */
export function detailsCopyStatement(key: ResolvedKey, header: boolean): RawBuilder<unknown> {
  return sql`copy (${detailsQuery(key)}) to stdout with (format csv, header ${sql.lit(header)})`;
}
