import { sql, type RawBuilder } from 'kysely';
import type { LeadTable } from '../../keys/key-definition.js';
import { currentVersion, PLAN_TEMP } from './plan-load-sql.js';
import { staleReason } from './plan-batch-sql.js';

/** `clean --plan` without --execute: every planned row against its current version, read, not locked. */

/** The plan's rows with their current version (NULL row_id: gone), as `k`. */
function currentRows(table: LeadTable): RawBuilder<unknown> {
  return sql`from ${PLAN_TEMP.groups} as g
join ${PLAN_TEMP.rows} as p on p.group_no = g.group_no
left join lateral ${currentVersion(table)} as k on true`;
}

/** Groups by state: done by an earlier run of the plan, stale (a row gone, else a row changed), or as planned; every count 0 when no group is loaded (none accepted, or every one done). */
export function planStatesQuery(table: LeadTable): RawBuilder<{
  groups: string | number;
  done: string | number;
  gone: string | number;
  changed: string | number;
  unchanged: string | number;
  rows_to_remove: string | number;
}> {
  return sql`select count(*) as groups, count(*) filter (where done) as done,
       count(*) filter (where not done and gone > 0) as gone,
       count(*) filter (where not done and gone = 0 and changed > 0) as changed,
       count(*) filter (where not done and gone = 0 and changed = 0) as unchanged,
       coalesce(sum(removes) filter (where not done and gone = 0 and changed = 0), 0) as rows_to_remove
from (select g.group_id, g.group_id in (select group_id from ${PLAN_TEMP.done}) as done,
             count(*) filter (where k.row_id is null) as gone,
             count(*) filter (where k.fingerprint <> p.fingerprint) as changed,
             count(*) filter (where not p.keeper) as removes
      ${currentRows(table)}
      group by g.group_id) as x`;
}

/** The first 20 stale groups (file order) and why, as --execute would name them. */
export function staleSampleQuery(table: LeadTable): RawBuilder<{ group_id: string; reason: string }> {
  return sql`select group_id, reason from (
  select distinct on (g.group_id) g.group_id, g.line_no, ${staleReason('k', 'p')} as reason
  ${currentRows(table)}
  where (k.row_id is null or k.fingerprint <> p.fingerprint) and g.group_id not in (select group_id from ${PLAN_TEMP.done})
  order by g.group_id, (k.row_id is null) desc, p.row_id) as s
order by line_no
limit 20`;
}
