import { sql, type RawBuilder } from 'kysely';
import type { ResolvedKey } from '../../keys/key-definition.js';
import { columnRef, tableRef } from '../../keys/key-sql.js';
import { TEMP } from './temp-tables-sql.js';
import { batchStageRowsQuery } from './batch-stage-sql.js';

/**
 * Per batch, on a Citus distributed table: lock the batch's rows the way
 * Citus allows. FOR UPDATE is only planned for a query that touches one
 * shard (a router query), so the batch's rows are locked shard by shard,
 * each with one `… = any(…) for update` query whose distribution values
 * all hash to that shard; lockBatchStatement then re-reads them without
 * FOR UPDATE (they are locked: the read sees their current versions), so
 * the batch gets the same row locks, in the same transaction, as on one
 * server. At most one statement per shard the batch touches, all run by a
 * DO block on the coordinator (no round trip per shard).
 */

/**
 * The stage rows of one batch (batchStageRowsQuery), in a session table of
 * their own: Citus joins a distributed table to a session table by sending
 * the whole session table to the workers, so the batch's statements join
 * this one, not the run's stage (at 1M rows that shipped the 124k-row stage
 * to every shard in each of 56 batches: 1.8 s a batch). Each row carries
 * what the chunk keepers say of it, so the lock joins this one session
 * table only: each one joined is one more result Citus ships to the worker.
 */
export function citusBatchStageStatement(batch: number): RawBuilder<unknown> {
  return sql`create temporary table ld_batch_stage on commit drop as
${batchStageRowsQuery(batch)}`;
}

/**
 * The batch's rows with their distribution value and shard. A row's
 * distribution value never changes (Citus refuses to modify it), so this
 * unlocked read names the right shard for every row the lock must reach;
 * a row deleted meanwhile is simply not locked, and the re-read drops it.
 * The shard is filled in by the DO block, on the coordinator (an
 * expression here would run on the workers, where the table's oid means
 * nothing).
 */
export function citusLockTargetsStatement(key: ResolvedKey, distributionColumn: string): RawBuilder<unknown> {
  const id = columnRef(key.table.idColumn, 'l');
  const distribution = columnRef(distributionColumn, 'l');
  return sql`create temporary table ld_lock_targets on commit drop as
select ${distribution} as dist, ${id} as row_id, null::int8 as shard
from ${tableRef(key.table)} as l
where ${id} in (select row_id from ${TEMP.batchStage})`;
}

/** What the DO block locks: the table (by oid) and its distribution and id columns, as transaction-local settings (a DO block takes no parameters). */
export function citusLockSettingsStatement(key: ResolvedKey, distributionColumn: string): RawBuilder<unknown> {
  return sql`select pg_catalog.set_config('lead_dedupe.lock_table', ${String(key.table.info.oid)}, true),
       pg_catalog.set_config('lead_dedupe.lock_columns', ${JSON.stringify([distributionColumn, key.table.idColumn])}, true)`;
}

/**
 * One router query per shard, in shard order, rows in id order within it
 * (two runs lock in the same order; Citus' distributed deadlock detection
 * breaks any other cycle, and the batch is retried). Identifiers reach the
 * query text only through format('%I').
 */
export function citusLockShardsStatement(): RawBuilder<unknown> {
  return sql`do $lock$
declare
  target regclass := current_setting('lead_dedupe.lock_table')::oid::regclass;
  columns jsonb := current_setting('lead_dedupe.lock_columns')::jsonb;
  this_shard bigint;
begin
  update pg_temp.ld_lock_targets set shard = pg_catalog.get_shard_id_for_distribution_column(target, dist);
  for this_shard in select distinct t.shard from pg_temp.ld_lock_targets as t order by 1 loop
    execute format('select 1 from %s where %I = any($1) and %I = any($2) order by %I for update', target, columns->>0, columns->>1, columns->>1)
      using array(select t.dist from pg_temp.ld_lock_targets as t where t.shard = this_shard),
            array(select t.row_id from pg_temp.ld_lock_targets as t where t.shard = this_shard);
  end loop;
end
$lock$`;
}
