import { sql, type RawBuilder } from 'kysely';
import type { LeadTable } from '../../keys/key-definition.js';
import { columnRef, tableRef } from '../../keys/key-sql.js';
import { TEMP } from '../clean-temp-tables.js';
import { rowFingerprint } from './plan-fingerprint.js';
import { PLAN_TEMP } from './plan-load.js';

/**
 * Per batch of a plan, in place of lock-and-rank: lock the planned rows,
 * set aside every group with a row changed or gone since the plan (stale),
 * and rank the others as the plan says (its keeper first). The skip checks,
 * archive, merge, re-point and delete that follow are clean's own.
 */

/** How a stale group's reason starts: the summary counts them by it. */
export const STALE_CHANGED = 'stale (a row changed since the plan)';
export const STALE_GONE = 'stale (a row is gone since the plan)';

/** The reason for a planned row p against its current version k (NULL when gone): NULL when unchanged. */
export function staleReason(current: string, planned: string): RawBuilder<string | null> {
  return sql<string | null>`case when ${sql.ref(`${current}.row_id`)} is null then ${STALE_GONE} || ': id ' || ${sql.ref(`${planned}.row_id`)}::text
            when ${sql.ref(`${current}.fingerprint`)} <> ${sql.ref(`${planned}.fingerprint`)} then ${STALE_CHANGED} || ': id ' || ${sql.ref(`${planned}.row_id`)}::text end`;
}

/**
 * Locks the batch's planned rows that still exist, with their fingerprint
 * now (after fingerprintSettingsStatement).
 *
 *   create temporary table ld_locked on commit drop as
 *   select "l"."id" as row_id, md5("l"::text) as fingerprint
 *   from "public"."leads" as l
 *   where "l"."id" in (select row_id from "pg_temp"."ld_stage" where batch_no = 3)
 *   order by "l"."id" for update of l
 */
export function lockPlannedRowsStatement(table: LeadTable, batch: number): RawBuilder<unknown> {
  const id = columnRef(table.idColumn, 'l');
  return sql`create temporary table ld_locked on commit drop as
select ${id} as row_id, ${rowFingerprint('l')} as fingerprint
from ${tableRef(table)} as l
where ${id} in (select row_id from ${TEMP.stage} where batch_no = ${sql.lit(batch)})
order by ${id} for update of l`;
}

/** The stale groups of the batch into ld_skipped (a gone row named before a changed one), then the members as planned. */
export function plannedMembersStatements(batch: number): RawBuilder<unknown>[] {
  const batchRows = sql`from ${TEMP.stage} as s
join ${PLAN_TEMP.rows} as p on p.row_id = s.row_id
join ${PLAN_TEMP.groups} as g on g.group_no = p.group_no`;
  return [
    sql`create temporary table ld_skipped (group_id text not null, reason text not null) on commit drop`,
    sql`insert into ${TEMP.skipped} (group_id, reason)
select distinct on (g.group_id) g.group_id, ${staleReason('k', 'p')}
${batchRows}
left join ${TEMP.locked} as k on k.row_id = p.row_id
where s.batch_no = ${sql.lit(batch)} and (k.row_id is null or k.fingerprint <> p.fingerprint)
order by g.group_id, (k.row_id is null) desc, p.row_id`,
    sql`create temporary table ld_members on commit drop as
select p.row_id, g.group_id, g.key_values, s.batch_no, null::text as chunk_state, g.keeper_id,
       row_number() over (partition by g.group_id order by p.keeper desc, p.row_id) as rank_in_group
${batchRows}
where s.batch_no = ${sql.lit(batch)} and g.group_id not in (select group_id from ${TEMP.skipped})`,
    sql`create index on ${TEMP.members} (row_id)`,
    sql`analyze ${TEMP.members}`,
  ];
}
