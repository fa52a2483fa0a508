import { sql, type RawBuilder } from 'kysely';
import type { ResolvedKey } from '../../keys/key-definition.js';
import { groupIdOf, keyAliases } from '../../keys/key-sql.js';
import { duplicateGroupRowsQuery } from '../../sql/duplicate-groups.js';
import { TEMP } from './temp-tables-sql.js';
import { shardOf } from './shard-pin-sql.js';

/**
 * The stage on Citus under a key holding the distribution column as it is
 * (every group on one shard, shard-pin-sql.ts): the same columns and batches as
 * stage-sql.ts describes, with groups numbered shard by shard and each shard's
 * groups cut into batches of their own (the windows start afresh in each
 * shard, so no batch spans two and a shard of 1,345 groups makes 2 batches).
 *
 * Built in two steps: the shards return the rows of their duplicate groups
 * from one window pass (duplicateGroupRowsQuery), into a session table; the
 * numbering and batch windows then run on the coordinator over that table
 * alone. In one statement Citus would write each level of the windows to an
 * intermediate result, and the single server's form (groups, then a join
 * back to the table) ships every group to every shard: at 1M rows on the
 * 3-instance cluster 3.5-4.4 s against 5.4-6.2 s (bench/README.md, B16).
 */
/** How the stage cuts its batches: groups and rows per batch (--batch-size, --batch-rows), and the --max-groups cap (null: none). */
export interface StageCut {
  batchSize: number;
  batchRows: number;
  maxGroups: number | null;
}

export function shardStageStatements(key: ResolvedKey, distributionAlias: string, cut: StageCut): RawBuilder<unknown>[] {
  return [
    sql`create temporary table ld_group_rows as
${duplicateGroupRowsQuery(key)}`,
    sql`create temporary table ld_stage as
${shardStageFrom(key, { rows: TEMP.groupRows, distributionAlias }, cut)}`,
    sql`drop table ${TEMP.groupRows}`,
  ];
}

/** The same stage as one query (the read-only dry run's CTE), the group rows as a materialised CTE. */
export function shardStageQuery(key: ResolvedKey, distributionAlias: string, cut: StageCut): RawBuilder<unknown> {
  return sql`with ld_group_rows as materialized (${duplicateGroupRowsQuery(key)})
${shardStageFrom(key, { rows: sql.id('ld_group_rows'), distributionAlias }, cut)}`;
}

/**
 * The windows of stage-sql.ts over the group rows `rows` (row_id, ld_k1, …, n),
 * computed per row: a group's number is the dense rank of its key (by shard
 * first), and the rows of the small groups before it in its shard are the
 * small-group rows up to and including it (RANGE: its own rows are peers)
 * less its own. The shard is looked up once per distribution value.
 */
function shardStageFrom(
  key: ResolvedKey,
  { rows, distributionAlias }: { rows: RawBuilder<unknown>; distributionAlias: string },
  { batchSize, batchRows, maxGroups }: StageCut,
): RawBuilder<unknown> {
  const pinned = sql.id(distributionAlias);
  const keyOrder = sql.join(keyAliases(key).map((alias) => sql.id('r', alias)));
  const groupId = groupIdOf(keyAliases(key).map((alias) => sql.id('r', alias)));
  const capped =
    maxGroups === null
      ? sql``
      : sql`
      where g.group_no <= ${sql.lit(maxGroups)}`;
  const half = sql.lit(Math.max(1, Math.floor(batchRows / 2)));
  const cap = sql.lit(batchRows);
  const chunk = sql.lit(Math.max(1, batchRows - 1));
  return sql`select row_id, group_no, group_id, chunked, pin_value, (dense_rank() over (order by shard, row_window, group_window, alone, chunk) - 1)::int4 as batch_no
from (select row_id, group_no, group_id, n > ${cap} as chunked, shard, pin_value,
             case when n > ${half} then group_no else 0 end as alone,
             (sum(case when n > ${half} then 0 else 1 end) over (partition by shard order by group_no range between unbounded preceding and current row)
               - case when n > ${half} then 0 else n end)::int8
               / (${cap} + 1 - max(case when n > ${half} then 0 else n end) over ()) as row_window,
             (dense_rank() over (partition by shard order by group_no) - 1) / ${sql.lit(batchSize)} as group_window,
             case when n > ${cap} then (row_number() over (partition by group_no order by row_id) - 1) / ${chunk} else 0 end as chunk
      from (select r.row_id, r.n, s.shard, r.${pinned}::text as pin_value, ${groupId} as group_id,
                   dense_rank() over (order by s.shard, ${keyOrder}) as group_no
            from ${rows} as r
            join (select d.${pinned}, ${shardOf(key, sql.id('d', distributionAlias))} as shard
                  from (select distinct ${pinned} from ${rows}) as d) as s on s.${pinned} = r.${pinned}) as g${capped}) as b`;
}
