import { sql, type RawBuilder } from 'kysely';
import type { ResolvedKey } from '../../keys/key-definition.js';
import { columnRef, groupIdOfKeyValues, groupableRows, keyExpressions, tableRef } from '../../keys/key-sql.js';
import { archiveRef } from '../sql/archive-sql.js';
import { TEMP } from '../sql/temp-tables-sql.js';
import { PLAN_TEMP } from './plan-load-sql.js';
import { batchWindowColumns } from '../sql/stage-sql.js';

/** Applying a plan: which groups an earlier run of the same plan did, and the stage cut from the plan. */

/**
 * The plan's groups an earlier run of the same plan (by the id in its
 * header) already cleaned on this table: their removed rows are in the
 * archive, under a run that was not restored since. Re-applying a plan after
 * a kill therefore skips them instead of reporting them stale.
 */
export function markDoneGroupsStatement(archiveSchema: string, planId: string, table: { schema: string; name: string }): RawBuilder<unknown> {
  return sql`insert into ${PLAN_TEMP.done} (group_id)
select distinct r.group_id
from ${archiveRef(archiveSchema, 'lead_dedupe_removed')} as r
where r.run_id in (select u.id from ${archiveRef(archiveSchema, 'lead_dedupe_runs')} as u
                   where u.options -> 'plan' ->> 'id' = ${planId} and u.status not in ('restored', 'restored with conflicts')
                     and u.table_schema = ${table.schema} and u.table_relname = ${table.name})
  and r.group_id in (select group_id from ${PLAN_TEMP.groups})`;
}

/**
 * The stage of a plan: the rows of the plan's groups not done yet, cut into
 * batches exactly as stageStatements cuts duplicate groups, except that a
 * group is never chunked (every row of a group is checked and locked in one
 * transaction, so a group is applied whole or not at all): one larger than
 * --batch-rows gets a batch of its own. Each row carries what a batch needs
 * of the plan (its fingerprint, whether it is the keeper, the group's keeper
 * and key values), so a batch reads its rows through the batch_no index
 * alone: joined to the plan's tables, every batch read both whole (27 ms a
 * batch at 1M rows, 1.5 s in all).
 */
export function planStageStatements(batchSize: number, batchRows: number): RawBuilder<unknown>[] {
  return [
    sql`drop table if exists ${TEMP.stage}, ${TEMP.chunkKeepers}`,
    sql`create temporary table ld_stage as
select p.row_id, b.group_no, b.group_id, false as chunked, (dense_rank() over (order by b.row_window, b.group_window, b.alone) - 1)::int4 as batch_no,
       p.keeper, p.fingerprint, b.keeper_id, b.key_values, b.reviewed
from (select g.*, ${batchWindowColumns(batchSize, batchRows)}
      from (select row_number() over (order by pg.group_no) as group_no, pg.group_no as plan_group_no, pg.group_id, pg.keeper_id, pg.key_values, pg.reviewed, count(*) as n
            from ${PLAN_TEMP.groups} as pg
            join ${PLAN_TEMP.rows} as r on r.group_no = pg.group_no
            where pg.group_id not in (select group_id from ${PLAN_TEMP.done})
            group by pg.group_no, pg.group_id, pg.keeper_id, pg.key_values, pg.reviewed) as g) as b
join ${PLAN_TEMP.rows} as p on p.group_no = b.plan_group_no`,
    sql`create index on ${TEMP.stage} (batch_no)`,
    sql`create index on ${TEMP.stage} (row_id)`,
    sql`analyze ${TEMP.stage}`,
    sql`create temporary table ld_chunk_keepers as select row_id as keeper_id, group_no, 0::int4 as first_batch from ${TEMP.stage} limit 0`,
  ];
}

/**
 * Rows that carry the key of a planned group but are not in the plan (added
 * since, or left out by hand): they are left in place. The first 20 groups,
 * each row carrying the totals. One pass over the table, hashed against the
 * plan's groups and rows.
 *
 * Each row's key values are matched (jsonb, hashed) against the plan's and
 * only the matches get a group id, which decides: the md5 of every row of the
 * table cost 1.8 s at 1M rows, this 0.8 s. The plan's key values came
 * through JSON, so one JSON numbers cannot carry exactly (an integer beyond
 * 2^53) would not match; such a row would only be missing from this count,
 * never touched either way.
 */
export function newRowsQuery(key: ResolvedKey): RawBuilder<{ group_id: string; n: string | number; groups: string | number; rows: string | number }> {
  const table = key.table;
  // OFFSET 0: the rows are filtered by hash joins before any grouping or sorting (an ORDER BY … LIMIT
  // over the join made the planner sort every row's group id, 4.9 s at 300k rows, spilling to disk)
  return sql`select group_id, n, count(*) over () as groups, sum(n) over () as rows
from (select ${groupIdOfKeyValues(sql`x.key_values`)} as group_id, count(*) as n
      from (select jsonb_build_array(${sql.join(keyExpressions(key, 'l'))}) as key_values, ${columnRef(table.idColumn, 'l')} as row_id
            from ${tableRef(table)} as l
            where ${groupableRows(key, 'l')}
            offset 0) as x
      where x.key_values in (select key_values from ${PLAN_TEMP.groups})
        and not exists (select 1 from ${PLAN_TEMP.rows} as p where p.row_id = x.row_id)
      group by x.key_values) as y
where group_id in (select group_id from ${PLAN_TEMP.groups})
order by group_id
limit 20`;
}

export function doneGroupsCountQuery(): RawBuilder<{ n: string | number }> {
  return sql`select count(*) as n from ${PLAN_TEMP.done}`;
}
