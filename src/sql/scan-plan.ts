import { sql, type RawBuilder } from 'kysely';
import type { ResolvedKey } from '../keys/key-definition.js';
import { columnRef, keyAliases, oldestFirst, sameKeyForFewGroups, tableRef } from '../keys/key-sql.js';
import { duplicateGroupsQuery } from './duplicate-groups.js';

/** Group-size buckets of the histogram; `max` null means open-ended. */
export const SIZE_BUCKETS = [
  { label: '2', min: 2, max: 2 },
  { label: '3', min: 3, max: 3 },
  { label: '4-9', min: 4, max: 9 },
  { label: '10-19', min: 10, max: 19 },
  { label: '20+', min: 20, max: null },
] as const;

export interface KeyScanRow {
  groups: string | number;
  rows_in_groups: string | number;
  largest: number | null;
  /** One count per SIZE_BUCKETS entry, in order. */
  buckets: (string | number)[];
  top: TopGroupRow[] | null;
}

export interface TopGroupRow {
  key: unknown[];
  n: number;
  first_at: string | null;
  last_at: string | null;
  ids: unknown[];
}

/**
 * One statement per key: one pass of the duplicate-groups hash aggregate,
 * materialised, then the summary and the top groups from it. The top
 * groups' first/last time and ids come from a join of the table with at most
 * `top` rows, so no per-group arrays are built for the other groups.
 */
export function keyScanQuery(key: ResolvedKey, top: number): RawBuilder<KeyScanRow> {
  const aliases = keyAliases(key).map((alias) => sql.id(alias));
  const topAliases = keyAliases(key).map((alias) => sql.id('top', alias));
  const buckets = SIZE_BUCKETS.map(({ min, max }) =>
    max === null ? sql`count(*) filter (where n >= ${sql.lit(min)})` : sql`count(*) filter (where n between ${sql.lit(min)} and ${sql.lit(max)})`,
  );
  const created = key.table.createdColumn;
  const createdExpr = created === null ? sql`null::text` : columnRef(created, 'l');
  return sql<KeyScanRow>`with groups as materialized (
${duplicateGroupsQuery(key)}
), top as (
  select * from groups order by n desc, ${sql.join(aliases)} limit ${sql.lit(top)}
), top_detail as (
  select ${sql.join(topAliases)}, top.n,
         min(${createdExpr})::text as first_at, max(${createdExpr})::text as last_at,
         (array_agg(${columnRef(key.table.idColumn, 'l')}::text order by ${oldestFirst(key.table, 'l')}))[1:5] as ids
  from top join ${tableRef(key.table)} as l on ${sameKeyForFewGroups(key, 'l', 'top')}
  group by ${sql.join(topAliases)}, top.n
)
select count(*) as groups,
       coalesce(sum(n), 0) as rows_in_groups,
       max(n) as largest,
       array[${sql.join(buckets)}] as buckets,
       (select json_agg(json_build_object('key', json_build_array(${sql.join(topAliases)}), 'n', n,
                                          'first_at', first_at, 'last_at', last_at, 'ids', ids)
                        order by n desc, ${sql.join(topAliases)})
        from top_detail as top) as top
from groups`;
}

export function rowCountQuery(key: Pick<ResolvedKey, 'table'>): RawBuilder<{ n: string | number }> {
  return sql<{ n: string | number }>`select count(*) as n from ${tableRef(key.table)}`;
}
