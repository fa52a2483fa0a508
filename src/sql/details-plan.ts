import { sql, type RawBuilder } from 'kysely';
import type { ResolvedKey } from '../keys/key-definition.js';
import { columnRef, groupIdOf, keyAliases, oldestFirst, sameKey, tableRef } from '../keys/key-sql.js';
import { duplicateGroupsQuery } from './duplicate-groups.js';

/** Columns of the details export before the table's own columns. */
export const DETAIL_COLUMNS = ['key', 'group_id', 'group_size', 'rank_in_group', 'keep'] as const;

/**
 * Every row that sits in a duplicate group, oldest first within its group,
 * with the group's stable id and whether the default keeper (the oldest)
 * would keep it. Every value is text, so the CSV shows exactly what
 * PostgreSQL stores (no JavaScript Date rounding) and COPY and the cursor
 * path write the same bytes.
 */
export function detailsQuery(key: ResolvedKey): RawBuilder<Record<string, unknown>> {
  const groupValues = keyAliases(key).map((alias) => sql.id('g', alias));
  const tableColumns = key.table.info.columns.map((c) => sql`${columnRef(c.name, 'l')}::text as ${sql.id(c.name)}`);
  const outputColumns = key.table.info.columns.map((c) => sql.id('ranked', c.name));
  return sql<Record<string, unknown>>`select ${sql.lit(key.name)} as key, group_id, group_size, rank_in_group, (rank_in_group = 1)::text as keep,
       ${sql.join(outputColumns)}
from (
  select ${groupIdOf(groupValues)} as group_id, g.n::text as group_size,
         row_number() over (partition by ${sql.join(groupValues)} order by ${oldestFirst(key.table, 'l')}) as rank_in_group,
         ${sql.join(groupValues)},
         ${sql.join(tableColumns)}
  from ${tableRef(key.table)} as l
  join (${duplicateGroupsQuery(key)}) as g on ${sameKey(key, 'l', 'g')}
) as ranked
order by ${sql.join(keyAliases(key).map((alias) => sql.id(alias)))}, rank_in_group`;
}
