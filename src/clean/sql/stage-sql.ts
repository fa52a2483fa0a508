import { sql, type RawBuilder } from 'kysely';
import type { ResolvedKey } from '../../keys/key-definition.js';
import { columnRef, groupIdOf, keyAliases, sameKey, tableRef } from '../../keys/key-sql.js';
import { duplicateGroupsQuery } from '../../sql/duplicate-groups.js';
import { PARALLEL_WORKERS_SETTING } from '../../db/parallel-workers.js';
import { TEMP } from './temp-tables-sql.js';
import { shardAlignedColumn } from '../../keys/distribution-rule.js';
import { shardStageQuery, shardStageStatements } from './shard-stage-sql.js';
import type { CarriedColumn } from './lock-and-rank-sql.js';

/** Staging: the rows of the duplicate groups, numbered into batches, once per run. */

/**
 * Materialises the rows of the duplicate groups (exactly the groups scan
 * reports), numbered by group in key order (on Citus, under a key holding
 * the distribution column, by shard first: shard-stage-sql.ts) and cut into
 * batches. Only the duplicate keys' rows are joined, so the ranking later
 * touches ~5% of the table, not all of it (bench/README.md, B4).
 *
 * A batch holds at most `batchSize` groups and at most `batchRows` rows
 * (the row locks one transaction holds). Groups of up to half the row cap
 * share batches: a batch takes the groups whose first row falls in the same
 * window of batchRows + 1 - M rows, M the largest of these groups (so the
 * last one still ends within batchRows; with groups of 39 the windows are
 * 9,962 rows), and in the same window of batchSize groups. A larger group
 * gets a batch of its own; one larger than the cap
 * is cut, in id order, into chunks of batchRows - 1 rows (its keeper is
 * locked with every chunk), each chunk a batch of its own.
 *
 *   create temporary table ld_stage as
 *   select row_id, group_no, group_id, chunked, (dense_rank() over (order by row_window, group_window, alone, chunk) - 1)::int4 as batch_no
 *   from (select l."id" as row_id, b.group_no, b.group_id, b.n > 10000 as chunked, b.row_window, b.group_window, b.alone,
 *                case when b.n > 10000 then (row_number() over (partition by b.group_no order by l."id") - 1) / 9999 else 0 end as chunk
 *         from (select g.*, md5(…) as group_id, case when g.n > 5000 then g.group_no else 0 end as alone,
 *                      coalesce(sum(case when g.n > 5000 then 0 else g.n end) over (order by g.group_no rows between unbounded preceding and 1 preceding), 0)::int8
 *                        / (10001 - max(case when g.n > 5000 then 0 else g.n end) over ()) as row_window,
 *                      (g.group_no - 1) / 1000 as group_window
 *               from (select dg.*, row_number() over (order by ld_k1, ld_k2) as group_no
 *                     from (<duplicate groups>) as dg order by ld_k1, ld_k2 limit all) as g) as b
 *         join "public"."leads" as l on <same key>) as x
 */
export function stageStatements(key: ResolvedKey, batchSize: number, batchRows: number, maxGroups: number | null): RawBuilder<unknown>[] {
  const distributionAlias = shardAlignedAlias(key);
  return [
    dropStageStatement(),
    // The staging's duplicate-groups aggregate may use the server's parallel workers (as scan of one key does,
    // bench/README.md B8): 1.2-1.3 s against 1.5-1.6 s at 1M rows. Only here: the batches join session tables,
    // which workers cannot read, and must not be planned as a parallel scan of a whole child table.
    sql`select set_config(${sql.lit(PARALLEL_WORKERS_SETTING.name)}, ${sql.lit(PARALLEL_WORKERS_SETTING.value)}, false)`,
    ...(distributionAlias === null
      ? [
          sql`create temporary table ld_stage as
${stageQuery(key, batchSize, batchRows, maxGroups)}`,
        ]
      : shardStageStatements(key, distributionAlias, { batchSize, batchRows, maxGroups })),
    sql`reset ${sql.raw(PARALLEL_WORKERS_SETTING.name)}`,
    sql`create index on ${TEMP.stage} (batch_no)`,
    sql`create index on ${TEMP.stage} (row_id)`,
    sql`analyze ${TEMP.stage}`,
    sql`create temporary table ld_chunk_keepers as select row_id as keeper_id, group_no, 0::int4 as first_batch from ${TEMP.stage} limit 0`,
  ];
}

/**
 * The staged rows (ld_stage's SELECT; the read-only dry run uses it as a CTE, so it counts the same batches).
 * `carry`: more columns computed from each row `l` where the stage reads it (the dry run's, lock-and-rank-sql.ts); a
 * shard stage carries none (stageCarries).
 */
export function stageQuery(key: ResolvedKey, batchSize: number, batchRows: number, maxGroups: number | null, carry: CarriedColumn[] = []): RawBuilder<unknown> {
  const distributionAlias = shardAlignedAlias(key);
  if (distributionAlias !== null) return shardStageQuery(key, distributionAlias, { batchSize, batchRows, maxGroups });
  const carried = (lead: string, expression: (column: CarriedColumn) => RawBuilder<unknown>) =>
    sql.join(
      carry.map((column) => sql`${sql.raw(lead)}${expression(column)}`),
      sql``,
    );
  const keyOrder = sql.join(keyAliases(key).map((alias) => sql.id(alias)));
  const limit = maxGroups === null ? sql`all` : sql.lit(maxGroups);
  const cap = sql.lit(batchRows);
  const chunk = sql.lit(Math.max(1, batchRows - 1));
  const groupId = groupIdOf(keyAliases(key).map((alias) => sql.id('g', alias)));
  return sql`select row_id, group_no, group_id, chunked, (dense_rank() over (order by row_window, group_window, alone, chunk) - 1)::int4 as batch_no${carried(', ', (c) => sql.id(c.name))}
from (select ${columnRef(key.table.idColumn, 'l')} as row_id, b.group_no, b.group_id, b.n > ${cap} as chunked, b.row_window, b.group_window, b.alone,
             case when b.n > ${cap} then (row_number() over (partition by b.group_no order by ${columnRef(key.table.idColumn, 'l')}) - 1) / ${chunk} else 0 end as chunk${carried(',\n             ', (c) => sql`${c.expression} as ${sql.id(c.name)}`)}
      from (select g.*, ${groupId} as group_id, ${batchWindowColumns(batchSize, batchRows)}
            from (select dg.*, row_number() over (order by ${keyOrder}) as group_no
                  from (${duplicateGroupsQuery(key)}) as dg
                  order by ${keyOrder}
                  limit ${limit}) as g) as b
      join ${tableRef(key.table)} as l on ${sameKey(key, 'l', 'b')}) as x`;
}

/** Whether stageQuery joins the table itself, so it can carry columns of the rows it reads: not a Citus shard stage. */
export function stageCarries(key: ResolvedKey): boolean {
  return shardAlignedAlias(key) === null;
}

/** On Citus, under a key holding the distribution column, its alias (ld_k1, …): the stage goes shard by shard (shard-stage-sql.ts); null otherwise. */
function shardAlignedAlias(key: ResolvedKey): string | null {
  const shardColumn = shardAlignedColumn(key);
  return shardColumn === null ? null : keyAliases(key)[key.columns.findIndex((c) => c.column === shardColumn)]!;
}

/**
 * How groups `g` (group_no, n) are cut into batches (see stageStatements): the
 * columns alone, row_window and group_window, which batch_no ranks by. Shared
 * with the stage of a plan (plan-stage-sql.ts), so both cut batches alike.
 */
export function batchWindowColumns(batchSize: number, batchRows: number): RawBuilder<unknown> {
  const half = sql.lit(Math.max(1, Math.floor(batchRows / 2)));
  const cap = sql.lit(batchRows);
  return sql`case when g.n > ${half} then g.group_no else 0 end as alone,
                   coalesce(sum(case when g.n > ${half} then 0 else g.n end) over (order by g.group_no rows between unbounded preceding and 1 preceding), 0)::int8
                     / (${cap} + 1 - max(case when g.n > ${half} then 0 else g.n end) over ()) as row_window,
                   (g.group_no - 1) / ${sql.lit(batchSize)} as group_window`;
}

/** All duplicate groups before the --max-groups cap (the run's "N groups remain"). */
export function duplicateGroupCountQuery(key: ResolvedKey): RawBuilder<{ groups: string | number }> {
  return sql`select count(*) as groups from (${duplicateGroupsQuery(key)}) as dg`;
}

export function stageSummaryQuery(): RawBuilder<{ groups: string | number | null; rows: string | number; batches: string | number | null }> {
  return sql`select max(group_no) as groups, count(*) as rows, max(batch_no) + 1 as batches from ${TEMP.stage}`;
}

export function dropStageStatement(): RawBuilder<unknown> {
  return sql`drop table if exists ${TEMP.stage}, ${TEMP.chunkKeepers}, ${TEMP.groupRows}`;
}
