import { sql, type RawBuilder } from 'kysely';
import type { ResolvedKey } from '../../keys/key-definition.js';
import { columnRef, groupedValuesSet, keyAliases, keyExpressions, oldestFirst, sameKeyForFewGroups, tableRef } from '../../keys/key-sql.js';
import { duplicateGroupsQuery, everyGroupQuery } from '../../sql/duplicate-groups.js';
import type { HashPart } from '../../sql/hash-part.js';

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
 * One statement per key: one pass of the duplicate-groups aggregate,
 * materialised, then the summary and the top groups from it. The top
 * groups' first/last time and ids come from a second read of the table
 * filtered by the top groups' raw key values, so no per-group arrays are
 * built for the other groups (see topGroupsPrefilter).
 */
export function keyScanQuery(key: ResolvedKey, top: number): RawBuilder<KeyScanRow> {
  const aliases = keyAliases(key).map((alias) => sql.id(alias));
  const topAliases = keyAliases(key).map((alias) => sql.id('top', alias));
  const summary = summaryColumns();
  // --top 0: the summary alone, the hand-written GROUP BY's plan (no second read, no materialised groups)
  if (top === 0) {
    return sql<KeyScanRow>`select ${summary}, null::json as top
from (${duplicateGroupsQuery(key)}) as groups`;
  }
  return sql<KeyScanRow>`with groups as materialized (
${duplicateGroupsQuery(key)}
), top as (
  select * from groups order by n desc, ${sql.join(aliases)} limit ${sql.lit(top)}
), top_detail as (
  select ${sql.join(topAliases)}, top.n,
         ${topGroupDetails(key)}
  from top join (select * from ${tableRef(key.table)} as l where ${topGroupsPrefilter(key)}) as l on ${sameKeyForFewGroups(key, 'l', 'top')}
  group by ${sql.join(topAliases)}, top.n
)
select ${summary},
       (select ${topGroupsJson(topAliases)}
        from top_detail as top) as top
from groups`;
}

/** A top group's first and last created time and its five oldest ids, aggregated over its rows (alias `l`). */
export function topGroupDetails(key: ResolvedKey): RawBuilder<unknown> {
  const created = key.table.createdColumn;
  const createdExpr = created === null ? sql`null::text` : columnRef(created, 'l');
  return sql`min(${createdExpr})::text as first_at, max(${createdExpr})::text as last_at,
         (array_agg(${columnRef(key.table.idColumn, 'l')}::text order by ${oldestFirst(key.table, 'l')}))[1:5] as ids`;
}

/** The top groups (`keys`, n and topGroupDetails' columns) as the report's JSON array, largest first, then by key. */
export function topGroupsJson(keys: RawBuilder<unknown>[]): RawBuilder<unknown> {
  return sql`json_agg(json_build_object('key', json_build_array(${sql.join(keys)}), 'n', n,
                                 'first_at', first_at, 'last_at', last_at, 'ids', ids)
                order by n desc, ${sql.join(keys)})`;
}

/**
 * The groups' summary and histogram over `groups`, a relation of their sizes
 * (n); with `duplicate`, only over its rows that condition holds for.
 */
function summaryColumns(duplicate: RawBuilder<unknown> | null = null): RawBuilder<unknown> {
  const where = (condition: RawBuilder<unknown> | null) => {
    const all = [duplicate, condition].filter((c): c is RawBuilder<unknown> => c !== null);
    return all.length === 0 ? sql`` : sql` filter (where ${sql.join(all, sql` and `)})`;
  };
  const buckets = SIZE_BUCKETS.map(({ min, max }) =>
    max === null ? sql`count(*)${where(sql`n >= ${sql.lit(min)}`)}` : sql`count(*)${where(sql`n between ${sql.lit(min)} and ${sql.lit(max)}`)}`,
  );
  return sql`count(*)${where(null)} as groups,
       coalesce(sum(n)${where(null)}, 0) as rows_in_groups,
       max(n)${where(null)} as largest,
       array[${sql.join(buckets)}] as buckets`;
}

/**
 * keyScanQuery with `--top 0` that also counts the table's rows, in the
 * aggregate's own pass: every group of the table (NULL keys and single rows
 * too, no HAVING), its sizes summed for the row count, the duplicate groups
 * picked out by the outer aggregate's filter. For a Citus distributed table,
 * where a separate count(*) is a second pass over every shard (bench/README.md
 * B14, B15): a GROUP BY holding the distribution column is still done on
 * the shards, which send the coordinator only their partial aggregates.
 */
export function keyScanWithRowCountQuery(key: ResolvedKey): RawBuilder<KeyScanRow & { table_rows: string | number }> {
  const valuesSet = groupedValuesSet(key);
  const duplicate = valuesSet === null ? sql`n > 1` : sql`n > 1 and ${valuesSet}`;
  return sql<KeyScanRow & { table_rows: string | number }>`select ${summaryColumns(duplicate)}, coalesce(sum(n), 0) as table_rows, null::json as top
from (${everyGroupQuery(key)}) as groups`;
}

/** One part's summary and its candidates for the top groups: each group's key values as text (NULL kept), and its size. */
export interface KeyPartScanRow extends Omit<KeyScanRow, 'top'> {
  top: { key: (string | null)[]; n: number }[] | null;
}

/**
 * keyScanQuery for one hash part of the key (hash-part.ts): the summary of
 * the part's groups, and its largest `top` groups in the report's order
 * (size, then key). The key's top groups are among the parts' candidates
 * (a group ahead of one in that order is ahead of it in its own part too);
 * topGroupsQuery picks them and reads their details once.
 */
export function keyPartScanQuery(key: ResolvedKey, top: number, part: HashPart): RawBuilder<KeyPartScanRow> {
  const aliases = keyAliases(key).map((alias) => sql.id(alias));
  const candidates =
    top === 0
      ? sql`null::json`
      : sql`(select json_agg(json_build_object('key', json_build_array(${sql.join(aliases.map((alias) => sql`${alias}::text`))}), 'n', n)
                                order by n desc, ${sql.join(aliases)})
        from (select * from groups order by n desc, ${sql.join(aliases)} limit ${sql.lit(top)}) as top)`;
  return sql<KeyPartScanRow>`with groups as materialized (
${duplicateGroupsQuery(key, part)}
)
select ${summaryColumns()}, ${candidates} as top
from groups`;
}

/**
 * The `top` largest groups among the parts' candidates, with their details:
 * one read of the table filtered by the candidates' key values (`"phone" =
 * any($2)`; a parameter typed by the column it is compared with), grouped
 * again, in the report's order. The filter keeps every row of a candidate
 * group, so the sizes are exact; a group it lets through beside them (its
 * values each match some candidate's) comes after `top` candidates of its
 * own part, so it never reaches the top.
 */
export function topGroupsQuery(key: ResolvedKey, candidates: (string | null)[][], top: number): RawBuilder<{ top: TopGroupRow[] | null }> {
  const expressions = keyExpressions(key, 'l');
  const aliases = keyAliases(key).map((alias) => sql.id(alias));
  const positions = expressions.map((_, index) => sql.raw(String(index + 1)));
  const filters = expressions.map((expression, index) => {
    const values = candidates.map((candidate) => candidate[index] ?? null);
    const given = values.filter((value): value is string => value !== null);
    const equal = given.length === 0 ? sql`false` : sql`${expression} = any(${given})`;
    return values.includes(null) ? sql`(${equal} or ${expression} is null)` : equal;
  });
  return sql<{ top: TopGroupRow[] | null }>`with top as (
  select ${sql.join(expressions.map((expression, index) => sql`${expression} as ${aliases[index]}`))}, count(*) as n,
         ${topGroupDetails(key)}
  from ${tableRef(key.table)} as l
  where ${sql.join(filters, sql` and `)}
  group by ${sql.join(positions)}
  having count(*) > 1
  order by n desc, ${sql.join(positions)}
  limit ${sql.lit(top)}
)
select ${topGroupsJson(aliases)} as top
from top`;
}

/**
 * The top groups' raw key values as arrays the second read filters on
 * (`l."device_id" = any(array(select "ld_k1" from top))`). The arrays are
 * parameters the parallel workers receive, so they drop all but a few
 * hundred rows themselves; a join with the CTE instead is done by the
 * leader, after the workers shipped it the whole table (at 1M rows, 0.25 s
 * against 0.06 s). Normalised columns are left to the join (a regular
 * expression per row), and so is a key with NULLs equal (= ANY never
 * matches NULL).
 */
function topGroupsPrefilter(key: ResolvedKey): RawBuilder<unknown> {
  if (key.nullsEqual) return sql`true`;
  const aliases = keyAliases(key);
  const raw = key.columns.flatMap((column, index) =>
    column.normalize === null ? [sql`${columnRef(column.column, 'l')} = any(array(select ${sql.id(aliases[index]!)} from top))`] : [],
  );
  return raw.length === 0 ? sql`true` : sql.join(raw, sql` and `);
}

export function rowCountQuery(key: Pick<ResolvedKey, 'table'>): RawBuilder<{ n: string | number }> {
  return sql<{ n: string | number }>`select count(*) as n from ${tableRef(key.table)}`;
}
