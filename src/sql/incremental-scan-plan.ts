import { sql, type RawBuilder } from 'kysely';
import type { ResolvedKey } from '../keys/key-definition.js';
import { columnRef, keyAliases, keyExpressions, oldestFirst, sameKey, tableRef } from '../keys/key-sql.js';
import { SIZE_BUCKETS, type KeyScanRow } from './scan-plan.js';

export interface IncrementalKeyScanRow extends KeyScanRow {
  /** Rows whose window column is at or after `since`. */
  new_rows: string | number;
  /** Rows in the window that are not the oldest of their group. */
  new_surplus: string | number;
}

/**
 * One statement per key, proportional to the rows written since `since`
 * when the table has an index on the window column and one whose leading
 * columns are the key's expressions (`lead-dedupe index add`, or the unique
 * index of `constraint add`); without them still one pass, never the
 * full-table GROUP BY:
 *
 *   win      the window's rows, their key values computed once (an index range scan on the window column);
 *   touched  the distinct keys among them (rows with a NULL key column are in no group unless NULLs are equal);
 *   members  every row of the table with one of those keys (one index lookup per key, or one hash join),
 *            ranked oldest first exactly as scan lists ids and clean keeps by default (created, then id);
 *   groups   the touched keys that are duplicate groups, judged against the whole table.
 *
 * The figures (groups, rows in groups, surplus, histogram, top groups) describe the touched
 * groups whole; new_surplus counts the window's rows that are not their group's oldest, so a
 * group whose only new row is its oldest adds none.
 */
export function incrementalKeyScanQuery(key: ResolvedKey, windowColumn: string, since: Date, top: number): RawBuilder<IncrementalKeyScanRow> {
  const table = key.table;
  const aliases = keyAliases(key).map((alias) => sql.id(alias));
  const touchedAliases = keyAliases(key).map((alias) => sql.id('t', alias));
  const start = sql`${since.toISOString()}::timestamptz`;
  const selected = keyExpressions(key, 'l').map((expression, index) => sql`${expression} as ${aliases[index]}`);
  const groupable = key.nullsEqual
    ? sql`true`
    : sql.join(
        aliases.map((alias) => sql`${alias} is not null`),
        sql` and `,
      );
  const created = table.createdColumn === null ? sql`null::timestamptz` : columnRef(table.createdColumn, 'l');
  const buckets = SIZE_BUCKETS.map(({ min, max }) =>
    max === null ? sql`count(*) filter (where n >= ${sql.lit(min)})` : sql`count(*) filter (where n between ${sql.lit(min)} and ${sql.lit(max)})`,
  );
  const topAliases = keyAliases(key).map((alias) => sql.id('top', alias));
  return sql<IncrementalKeyScanRow>`with win as materialized (
  select ${sql.join(selected)}
  from ${tableRef(table)} as l
  where ${columnRef(windowColumn, 'l')} >= ${start}
), touched as materialized (
  select distinct ${sql.join(aliases)} from win where ${groupable}
), members as (
  select ${sql.join(touchedAliases)}, ${columnRef(table.idColumn, 'l')} as ld_id, ${created} as ld_created,
         coalesce(${columnRef(windowColumn, 'l')} >= ${start}, false) as ld_new,
         row_number() over (partition by ${sql.join(touchedAliases)} order by ${oldestFirst(table, 'l')}) as ld_rank,
         count(*) over (partition by ${sql.join(touchedAliases)}) as ld_n
  from touched as t join ${tableRef(table)} as l on ${lookUpKey(key, 'l', 't')}
), groups as materialized (
  select ${sql.join(aliases)}, max(ld_n) as n,
         count(*) filter (where ld_new and ld_rank > 1) as new_surplus,
         min(ld_created)::text as first_at, max(ld_created)::text as last_at,
         (array_agg(ld_id::text order by ld_rank))[1:5] as ids
  from members
  where ld_n > 1
  group by ${sql.join(aliases)}
)
select (select count(*) from win) as new_rows,
       count(*) as groups,
       coalesce(sum(n), 0) as rows_in_groups,
       max(n) as largest,
       array[${sql.join(buckets)}] as buckets,
       coalesce(sum(new_surplus), 0) as new_surplus,
       (select json_agg(json_build_object('key', json_build_array(${sql.join(topAliases)}), 'n', n,
                                          'first_at', first_at, 'last_at', last_at, 'ids', ids)
                        order by n desc, ${sql.join(topAliases)})
        from (select * from groups order by n desc, ${sql.join(aliases)} limit ${sql.lit(top)}) as top) as top
from groups`;
}

/**
 * A row's key equal to a touched key, written so an index on the key's
 * expressions serves it: one `=` per column on exactly the expressions
 * the index (and the constraint) is built on. With NULLs equal the
 * comparison must treat NULL = NULL: JSON arrays compare so and hash,
 * though no index serves them (one pass over the table).
 */
function lookUpKey(key: ResolvedKey, rowAlias: string, keysAlias: string): RawBuilder<unknown> {
  if (key.nullsEqual) return sameKey(key, rowAlias, keysAlias);
  const keys = keyAliases(key).map((alias) => sql.id(keysAlias, alias));
  return sql.join(
    keyExpressions(key, rowAlias).map((expression, index) => sql`${expression} = ${keys[index]}`),
    sql` and `,
  );
}

export interface ScanStartRow {
  now_ms: string | number;
  /** null when a partition has never been vacuumed or analysed (no density to scale). */
  estimated_rows: string | number | null;
}

/**
 * One statement before the scan's: the server's clock in whole
 * milliseconds, rounded down (read before the scan's statements start, it
 * is never later than their snapshots, so a watermark set from it cannot
 * skip a row they could not see), and the table's row count as the planner
 * estimates it: pg_class's density (reltuples / relpages, kept by
 * autovacuum and ANALYZE) times the current size in pages, summed over the
 * partitions (pg_partition_tree lists no rows for a plain table: the table
 * itself is taken then). An incremental scan reports that instead of counting the table.
 */
export function scanStartQuery(tableOid: number): RawBuilder<ScanStartRow> {
  return sql<ScanStartRow>`select floor(extract(epoch from clock_timestamp()) * 1000)::int8 as now_ms,
       (select case when count(*) = 0 or bool_or(c.relpages = 0) then null
                    else round(sum(c.reltuples / nullif(c.relpages, 0) * (pg_catalog.pg_relation_size(c.oid) / current_setting('block_size')::int8)))::int8 end
        from pg_catalog.pg_class as c
        where (c.oid = ${tableOid}::int8::oid and c.relkind <> 'p')
           or c.oid in (select p.relid from pg_catalog.pg_partition_tree(${tableOid}::int8::oid) as p where p.isleaf)) as estimated_rows`;
}
