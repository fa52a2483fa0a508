import { sql, type RawBuilder } from 'kysely';
import type { ResolvedKey } from '../../keys/key-definition.js';
import { columnRef, keyAliases, keyExpressions, tableRef } from '../../keys/key-sql.js';
import { topGroupDetails, topGroupsJson, type TopGroupRow } from './scan-sql.js';

/**
 * The top groups' details (key values, size, first and last created time,
 * five oldest ids) from every id of their rows, in the report's order (size,
 * then key): the same columns as keyScanQuery's top groups. For `scan
 * --details`, which learns the top groups and their ids from the export's
 * own rows (scan/group-figures.ts). Only where the ids are unique (a unique
 * index vouches for it), so the ids select exactly the groups' rows, and the
 * lookup goes through that index (`"id" = any($1)`, the parameter typed by
 * the column) instead of reading the table again.
 */
export function topGroupsByIdsQuery(key: ResolvedKey, ids: string[]): RawBuilder<{ top: TopGroupRow[] | null }> {
  const expressions = keyExpressions(key, 'l');
  const aliases = keyAliases(key).map((alias) => sql.id(alias));
  const positions = expressions.map((_, index) => sql.raw(String(index + 1)));
  return sql<{ top: TopGroupRow[] | null }>`with top as (
  select ${sql.join(expressions.map((expression, index) => sql`${expression} as ${aliases[index]}`))}, count(*) as n,
         ${topGroupDetails(key)}
  from ${tableRef(key.table)} as l
  where ${columnRef(key.table.idColumn, 'l')} = any(${ids})
  group by ${sql.join(positions)}
)
select ${topGroupsJson(aliases)} as top
from top`;
}
