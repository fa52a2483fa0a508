import { sql, type RawBuilder } from 'kysely';
import type { ResolvedKey } from '../keys/key-definition.js';
import { groupableRows, keyAliases, keyExpressions, tableRef } from '../keys/key-sql.js';

/**
 * The one definition of a duplicate group, shared by scan, details and clean:
 *
 *   select <expr1> as k1, <expr2> as k2, count(*) as n
 *   from "public"."leads"
 *   where <expr1> is not null and <expr2> is not null   -- unless NULLs are equal
 *   group by 1, 2
 *   having count(*) > 1
 *
 * A single hash aggregate: per BASELINE.md the cheapest plan at 1M and 5M rows.
 */
export function duplicateGroupsQuery(key: ResolvedKey): RawBuilder<unknown> {
  const expressions = keyExpressions(key);
  const aliases = keyAliases(key);
  const selected = expressions.map((expression, index) => sql`${expression} as ${sql.id(aliases[index]!)}`);
  const positions = expressions.map((_, index) => sql.raw(String(index + 1)));
  return sql`select ${sql.join(selected)}, count(*) as n
from ${tableRef(key.table)}
where ${groupableRows(key)}
group by ${sql.join(positions)}
having count(*) > 1`;
}
