import { sql, type RawBuilder } from 'kysely';

/**
 * The session's temp tables clean works on. `stage` lives for the run (the
 * victim candidates, materialised once and ANALYZEd, bench/README.md B4),
 * and so does `chunkKeepers` (the keeper of each group too large for one
 * batch, chosen in its first chunk); `groupRows` lives while a Citus stage
 * is built (shard-stage-sql.ts);
 * the others are created inside each batch's transaction, ON COMMIT DROP.
 */
export const TEMP = {
  stage: sql.id('pg_temp', 'ld_stage'),
  locked: sql.id('pg_temp', 'ld_locked'),
  members: sql.id('pg_temp', 'ld_members'),
  skipped: sql.id('pg_temp', 'ld_skipped'),
  merge: sql.id('pg_temp', 'ld_merge'),
  chunkKeepers: sql.id('pg_temp', 'ld_chunk_keepers'),
  donors: sql.id('pg_temp', 'ld_donors'),
  lockTargets: sql.id('pg_temp', 'ld_lock_targets'),
  batchStage: sql.id('pg_temp', 'ld_batch_stage'),
  groupRows: sql.id('pg_temp', 'ld_group_rows'),
} as const;

/**
 * A session table read through a subquery, for an UPDATE or DELETE whose
 * target may be a Citus reference table: Citus refuses `UPDATE <reference
 * table> … FROM <session table>` ("relation ld_members is not
 * distributed") but plans a subquery over it first, as an intermediate
 * result, and then runs the change on every copy. PostgreSQL pulls the
 * subquery up, so on one server the plan is the same as joining the table.
 */
export function sessionRows(table: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`(select * from ${table})`;
}
