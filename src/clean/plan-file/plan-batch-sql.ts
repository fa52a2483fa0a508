import { sql, type RawBuilder } from 'kysely';
import type { ResolvedKey } from '../../keys/key-definition.js';
import { columnRef, groupIdOf, groupableRows, keyExpressions, tableRef } from '../../keys/key-sql.js';
import { TEMP } from '../sql/temp-tables-sql.js';
import { rowFingerprint } from './plan-fingerprint-sql.js';

/**
 * Per batch of a plan, in place of lock-and-rank: lock the planned rows,
 * set aside every group with a row changed or gone since the plan (stale),
 * and rank the others as the plan says (its keeper first). The skip checks,
 * archive, merge, re-point and delete that follow are clean's own.
 */

/** How a stale group's reason starts: the summary counts them by it. */
export const STALE_CHANGED = 'stale (a row changed since the plan)';
export const STALE_GONE = 'stale (a row is gone since the plan)';
/** After STALE_CHANGED and the id: counted with the changed ones (the row changed since the plan was checked, even when its fingerprint is back). */
export const STALE_KEY_SUFFIX = " no longer carries the group's key";

/** The reason for a planned row p against its current version k (NULL when gone): NULL when unchanged. */
export function staleReason(current: string, planned: string): RawBuilder<string | null> {
  return sql<string | null>`case when ${sql.ref(`${current}.row_id`)} is null then ${STALE_GONE} || ': id ' || ${sql.ref(`${planned}.row_id`)}::text
            when ${sql.ref(`${current}.fingerprint`)} <> ${sql.ref(`${planned}.fingerprint`)} then ${STALE_CHANGED} || ': id ' || ${sql.ref(`${planned}.row_id`)}::text end`;
}

/**
 * Locks the batch's planned rows that still exist, with their fingerprint
 * and the group id of their key now (NULL when the key cannot group the
 * row), after fingerprintSettingsStatement. The key is checked under the
 * lock as well as the fingerprint: a row whose fingerprint matches again by
 * the time it is locked (changed during the apply, then changed back) may
 * still not be a row of its planned group (an id added to the plan by hand).
 *
 *   create temporary table ld_locked on commit drop as
 *   select "l"."id" as row_id, md5("l"::text) as fingerprint,
 *          case when <groupable> then md5(…key…) end as key_group
 *   from "public"."leads" as l
 *   where "l"."id" in (select row_id from "pg_temp"."ld_stage" where batch_no = 3)
 *   order by "l"."id" for update of l
 */
export function lockPlannedRowsStatement(key: ResolvedKey, batch: number): RawBuilder<unknown> {
  const table = key.table;
  const id = columnRef(table.idColumn, 'l');
  return sql`create temporary table ld_locked on commit drop as
select ${id} as row_id, ${rowFingerprint('l')} as fingerprint,
       case when ${groupableRows(key, 'l')} then ${groupIdOf(keyExpressions(key, 'l'))} end as key_group
from ${tableRef(table)} as l
where ${id} in (select row_id from ${TEMP.stage} where batch_no = ${sql.lit(batch)})
order by ${id} for update of l`;
}

/**
 * The stale groups of the batch into ld_skipped (a gone row named first,
 * then one that left the group's key, then a changed one), then the members
 * as planned (all from ld_stage: plan-stage-sql.ts).
 */
export function plannedMembersStatements(batch: number): RawBuilder<unknown>[] {
  return [
    sql`create temporary table ld_skipped (group_id text not null, reason text not null) on commit drop`,
    sql`insert into ${TEMP.skipped} (group_id, reason)
select distinct on (s.group_id) s.group_id,
       coalesce(${staleReason('k', 's')}, ${STALE_CHANGED} || ': id ' || s.row_id::text || ${STALE_KEY_SUFFIX})
from ${TEMP.stage} as s
left join ${TEMP.locked} as k on k.row_id = s.row_id
where s.batch_no = ${sql.lit(batch)} and (k.row_id is null or k.fingerprint <> s.fingerprint or (k.key_group is distinct from s.group_id and not s.reviewed))
order by s.group_id, (k.row_id is null) desc, (k.key_group is distinct from s.group_id and not s.reviewed) desc, s.row_id`,
    sql`create temporary table ld_members on commit drop as
select s.row_id, s.group_id, s.key_values, s.batch_no, null::text as chunk_state, s.keeper_id,
       row_number() over (partition by s.group_id order by s.keeper desc, s.row_id) as rank_in_group
from ${TEMP.stage} as s
where s.batch_no = ${sql.lit(batch)} and s.group_id not in (select group_id from ${TEMP.skipped})`,
    sql`create index on ${TEMP.members} (row_id)`,
    sql`analyze ${TEMP.members}`,
  ];
}
