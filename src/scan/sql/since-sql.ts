import { sql, type RawBuilder } from 'kysely';
import type { LeadTable, ResolvedKey } from '../../keys/key-definition.js';
import { columnRef, keyAliases, keyEquals, keyExpressions, oldestFirst, tableRef } from '../../keys/key-sql.js';
import { SIZE_BUCKETS, type KeyScanRow } from './scan-sql.js';

export interface IncrementalKeyScanRow extends KeyScanRow {
  /** Rows in the window (their created or changed time at or after its start, or no created time at all). */
  new_rows: string | number;
  /** Rows in the window that are not the oldest of their group and that no earlier run reported. */
  new_surplus: string | number;
  /** Rows in the window that are not the oldest of their group, reported by an earlier run already. */
  reported_before: string | number;
  /** Rows in the window whose created column is NULL: no time places them, so every window holds them. */
  undated_rows: string | number;
  /** Rows in the window whose time lies beyond the run's clock (future-dated). */
  future_rows: string | number;
  /** Ids (as text) of the window's surplus rows the next window will hold again, at most `rememberLimit` + 1; null when none. */
  remember_ids: string[] | null;
}

/**
 * One column's bound: rows whose column is at or after `at` (or, for
 * `future`, after it). A `timestamp`/`date` column compared with `wallTime`
 * reads `at` as its UTC wall time, the column's own value as `--since last`
 * stored it, never through the session's TimeZone; without it a zoneless
 * column is compared as PostgreSQL casts it (in the session's TimeZone).
 */
export interface WindowBound {
  column: string;
  at: Date;
  wallTime: boolean;
}

/** What the window of one key's incremental scan holds, and what the run must count and remember about it. */
export interface IncrementalWindow {
  /** A row is in the window when any bound holds for it (the created column, --changed-column, a zoneless column's own mark). */
  bounds: WindowBound[];
  /** The created column: a row with NULL there is in every window (and counted as undated); null without one. */
  undatedColumn: string | null;
  /** A row of the window beyond any of these is future-dated (counted). */
  future: WindowBound[];
  /** Ids (as text) of surplus rows an earlier run reported: counted in reported_before, not in new_surplus. */
  reported: string[];
  /** The next run's bounds: the surplus rows it will hold again are listed in remember_ids; null lists none (a fixed --since). */
  remember: WindowBound[] | null;
  rememberLimit: number;
}

function boundValue(bound: WindowBound): RawBuilder<unknown> {
  const instant = sql`${bound.at.toISOString()}::timestamptz`;
  return bound.wallTime ? sql`(${instant} at time zone 'UTC')` : instant;
}

/** Whether the row `alias` meets any of the bounds (`>=`, or `>` for future): false when there are none. */
function anyBound(bounds: WindowBound[], alias: string, operator: '>=' | '>'): RawBuilder<unknown> {
  if (bounds.length === 0) return sql`false`;
  return sql`(${sql.join(
    bounds.map((bound) => sql`${columnRef(bound.column, alias)} ${sql.raw(operator)} ${boundValue(bound)}`),
    sql` or `,
  )})`;
}

/**
 * One statement per key, proportional to the rows written since `since`
 * when the table has an index on the window column and one whose leading
 * columns are the key's expressions (`lead-dedupe index add`, or the unique
 * index of `constraint add`); without them never the full-table GROUP BY:
 *
 *   win      the window's rows, for its counts (an index range scan on the window column); a row with
 *            no created time is in every window: it cannot be placed, so it is never skipped;
 *   members  every row of the table whose key a row of the window has (rows with a NULL key column are in
 *            no group unless NULLs are equal), ranked oldest first exactly as scan lists ids and clean keeps
 *            by default (created, then id). EXISTS over the table itself, not over `win`: the planner then
 *            knows how many keys the window holds (the window column's and the key's statistics) and
 *            chooses one index lookup per key for a few, the table streamed past the window's keys, hashed,
 *            for many. Over a CTE it has no statistics and always assumed a few thousand keys: one lookup
 *            per key even for a window of the whole table, 17× a full scan at 1M (bench/README.md, B23, B31);
 *   groups   the window's keys that are duplicate groups, judged against the whole table.
 *
 * The figures (groups, rows in groups, surplus, histogram, top groups) describe the touched
 * groups whole; new_surplus counts the window's rows that are not their group's oldest and
 * that no earlier run reported, so a group whose only new row is its oldest adds none, and a
 * surplus row the overlap (or a future date) brings back is not counted twice. The window is
 * read twice (for its counts and for its keys): without an index on the window column that is a
 * second pass over the table.
 */
export function incrementalKeyScanQuery(key: ResolvedKey, window: IncrementalWindow, top: number): RawBuilder<IncrementalKeyScanRow> {
  const table = key.table;
  const aliases = keyAliases(key).map((alias) => sql.id(alias));
  const rowKey = keyExpressions(key, 'l');
  const undated = (alias: string) => (window.undatedColumn === null ? sql`false` : sql`${columnRef(window.undatedColumn, alias)} is null`);
  const inWindow = (alias: string) => sql`(${anyBound(window.bounds, alias, '>=')} or ${undated(alias)})`;
  const selected = rowKey.map((expression, index) => sql`${expression} as ${aliases[index]}`);
  const created = table.createdColumn === null ? sql`null::timestamptz` : columnRef(table.createdColumn, 'l');
  const buckets = SIZE_BUCKETS.map(({ min, max }) =>
    max === null ? sql`count(*) filter (where n >= ${sql.lit(min)})` : sql`count(*) filter (where n between ${sql.lit(min)} and ${sql.lit(max)})`,
  );
  const topAliases = keyAliases(key).map((alias) => sql.id('top', alias));
  const remembered = window.remember === null ? sql`false` : sql`(${anyBound(window.remember, 'l', '>=')} or ${undated('l')})`;
  // Citus refuses a correlated EXISTS between two scans of a distributed table ("complex joins are only
  // supported when…"): there the window's keys are a CTE, which it runs first and sends to every shard.
  const keysInCte = table.info.distribution?.kind === 'distributed';
  const windowKeyColumns = keysInCte ? sql`${sql.join(selected)}, ` : sql``;
  const touchedKeys = keysInCte ? sql`, touched as materialized (\n  select distinct ${sql.join(aliases)} from win\n)` : sql``;
  const sharesWindowKey = keysInCte
    ? sql`exists (select from touched as t where ${sameKeyAs(
        key,
        'l',
        keyAliases(key).map((alias) => sql.id('t', alias)),
      )})`
    : sql`exists (select from ${tableRef(table)} as w where ${inWindow('w')} and ${sameKeyAs(key, 'l', keyExpressions(key, 'w'))})`;
  return sql<IncrementalKeyScanRow>`with win as materialized (
  select ${windowKeyColumns}${undated('l')} as ld_undated, ${anyBound(window.future, 'l', '>')} as ld_future
  from ${tableRef(table)} as l
  where ${inWindow('l')}
)${touchedKeys}, members as (
  select ${sql.join(selected)}, ${columnRef(table.idColumn, 'l')} as ld_id, ${created} as ld_created,
         coalesce(${inWindow('l')}, false) as ld_new,
         coalesce(${columnRef(table.idColumn, 'l')}::text = any(${window.reported}::text[]), false) as ld_reported,
         coalesce(${remembered}, false) as ld_remember,
         row_number() over (partition by ${sql.join(rowKey)} order by ${oldestFirst(table, 'l')}) as ld_rank,
         count(*) over (partition by ${sql.join(rowKey)}) as ld_n
  from ${tableRef(table)} as l
  where ${sharesWindowKey}
), groups as materialized (
  select ${sql.join(aliases)}, max(ld_n) as n,
         count(*) filter (where ld_new and ld_rank > 1 and not ld_reported) as new_surplus,
         count(*) filter (where ld_new and ld_rank > 1 and ld_reported) as reported_before,
         array_agg(ld_id::text) filter (where ld_new and ld_rank > 1 and ld_remember) as remember_ids,
         min(ld_created)::text as first_at, max(ld_created)::text as last_at,
         (array_agg(ld_id::text order by ld_rank))[1:5] as ids
  from members
  where ld_n > 1
  group by ${sql.join(aliases)}
)
select (select count(*) from win) as new_rows,
       (select count(*) filter (where ld_undated) from win) as undated_rows,
       (select count(*) filter (where ld_future) from win) as future_rows,
       count(*) as groups,
       coalesce(sum(n), 0) as rows_in_groups,
       max(n) as largest,
       array[${sql.join(buckets)}] as buckets,
       coalesce(sum(new_surplus), 0) as new_surplus,
       coalesce(sum(reported_before), 0) as reported_before,
       (select array_agg(id) from (select unnest(remember_ids) as id from groups limit ${sql.lit(window.rememberLimit + 1)}) as remembered) as remember_ids,
       (select json_agg(json_build_object('key', json_build_array(${sql.join(topAliases)}), 'n', n,
                                          'first_at', first_at, 'last_at', last_at, 'ids', ids)
                        order by n desc, ${sql.join(topAliases)})
        from (select * from groups order by n desc, ${sql.join(aliases)} limit ${sql.lit(top)}) as top) as top
from groups`;
}

/**
 * A row's key equal to another's (a window row's key expressions, or the
 * columns of a CTE of them), written so an index on the key's expressions
 * serves it: one `=` per column on exactly the expressions the index (and
 * the constraint) is built on; a NULL on either side matches nothing, so
 * such rows are in no group. With NULLs equal the comparison must treat
 * NULL = NULL: JSON arrays compare so and hash, though no index serves them
 * (one pass over the table).
 */
function sameKeyAs(key: ResolvedKey, rowAlias: string, other: RawBuilder<unknown>[]): RawBuilder<unknown> {
  const row = keyExpressions(key, rowAlias);
  if (key.nullsEqual) return sql`jsonb_build_array(${sql.join(row)}) = jsonb_build_array(${sql.join(other)})`;
  return sql.join(
    row.map((expression, index) => keyEquals(key, index, expression, other[index]!)),
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

export interface OpenTransactionsRow {
  /** The start of the oldest transaction another client backend of this database has open, in whole ms (rounded down); null when none. */
  oldest_ms: string | number | null;
  oldest_pid: number | null;
  oldest_application: string | null;
  /** Client backends of this database whose transaction start this role may not read (no pg_read_all_stats, another user's). */
  hidden: string | number;
}

/**
 * The transactions that may still commit rows a window has passed: a
 * created value that is its transaction's start (`now()`, a column default)
 * can only be older than the run's clock while that transaction is open.
 * pg_stat_activity shows another user's `xact_start` only to a role with
 * pg_read_all_stats (it shows their rows with every column but pid, user and
 * database NULL); those sessions are counted as hidden.
 */
export function openTransactionsQuery(): RawBuilder<OpenTransactionsRow> {
  return sql<OpenTransactionsRow>`select floor(extract(epoch from o.xact_start) * 1000)::int8 as oldest_ms, o.pid as oldest_pid, o.application_name as oldest_application,
       (select count(*) from pg_catalog.pg_stat_activity as h
        where h.pid <> pg_catalog.pg_backend_pid() and h.datname = pg_catalog.current_database()
          and h.backend_start is null) as hidden
from (select 1) as one
left join lateral (
  select a.xact_start, a.pid, a.application_name from pg_catalog.pg_stat_activity as a
  where a.backend_type = 'client backend' and a.pid <> pg_catalog.pg_backend_pid()
    and a.datname = pg_catalog.current_database() and a.xact_start is not null
  order by a.xact_start limit 1
) as o on true`;
}

/** The latest time a zoneless value can be now anywhere (UTC+14): a `timestamp` or `date` beyond it is future-dated in every zone. */
export const LATEST_ZONE_OFFSET_MS = 14 * 3_600_000;

/**
 * A zoneless (`timestamp`, `date`) window column's own mark: its greatest
 * value not beyond `cap` (read as UTC wall time), returned as that wall
 * time in whole ms (rounded down), so it never passes through the
 * session's TimeZone; null when the column holds no such value.
 */
export function wallMarkQuery(table: LeadTable, column: string, cap: Date): RawBuilder<{ mark_ms: string | number | null }> {
  const column_ = columnRef(column, 'l');
  return sql<{ mark_ms: string | number | null }>`select floor(extract(epoch from max(${column_})::timestamp at time zone 'UTC') * 1000)::int8 as mark_ms
from ${tableRef(table)} as l
where ${column_} <= (${cap.toISOString()}::timestamptz at time zone 'UTC')`;
}
