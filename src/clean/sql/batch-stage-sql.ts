import { sql, type RawBuilder } from 'kysely';
import { TEMP } from './temp-tables-sql.js';

/**
 * The stage rows of one batch of --execute, and the stage rows of the
 * keepers its chunked groups already have (a keeper staged in another
 * batch), each with what the chunk keepers say of it: `forced` (it is its
 * group's chosen keeper) and `first_batch` (the batch that chose it). Read
 * through the stage's batch_no and row_id indexes (an OR of the two
 * conditions would scan the whole stage); every row has one stage row, so
 * the two branches never return the same row.
 *
 * The single-server lock joins the table to this query directly, so each
 * locked row costs one primary-key probe and no stage probe (bench/README.md
 * B20); on Citus it is materialised first (citusBatchStageStatement).
 */
export function batchStageRowsQuery(batch: number): RawBuilder<unknown> {
  const thisBatch = sql.lit(batch);
  return sql`select s.*, coalesce(k.keeper_id = s.row_id, false) as forced, k.first_batch
from (select * from ${TEMP.stage} where batch_no = ${thisBatch}
      union all
      select * from ${TEMP.stage}
      where row_id in (select keeper_id from ${TEMP.chunkKeepers} where group_no in (select group_no from ${TEMP.stage} where batch_no = ${thisBatch}))
        and batch_no <> ${thisBatch}) as s
left join ${TEMP.chunkKeepers} as k on k.group_no = s.group_no`;
}
