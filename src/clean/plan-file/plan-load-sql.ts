import { sql, type RawBuilder } from 'kysely';
import type { LeadTable, ResolvedKey } from '../../keys/key-definition.js';
import { columnRef, groupIdOf, groupableRows, keyExpressions, tableRef } from '../../keys/key-sql.js';
import { rowFingerprint } from './plan-fingerprint-sql.js';

/**
 * A plan being applied or checked lives in two temp tables of the session:
 * its groups (line, group id, key values, keeper) and its rows (group, line,
 * id, keeper or not, fingerprint). Their id columns take the type of the
 * table's id column, so ids join without casts and a malformed id is
 * refused by the type's own input function.
 */
export const PLAN_TEMP = {
  groups: sql.id('pg_temp', 'ld_plan_groups'),
  rows: sql.id('pg_temp', 'ld_plan'),
  done: sql.id('pg_temp', 'ld_plan_done'),
} as const;

export function createPlanTablesStatements(table: LeadTable): RawBuilder<unknown>[] {
  const id = columnRef(table.idColumn, 'l');
  return [
    dropPlanTablesStatement(),
    sql`create temporary table ld_plan_groups as
select 0::int4 as group_no, 0::int4 as line_no, ''::text as group_id, null::jsonb as key_values, ${id} as keeper_id, false as reviewed from ${tableRef(table)} as l limit 0`,
    sql`create temporary table ld_plan as
select 0::int4 as group_no, 0::int4 as line_no, ${id} as row_id, false as keeper, ''::text as fingerprint from ${tableRef(table)} as l limit 0`,
    sql`create temporary table ld_plan_done (group_id text primary key)`,
  ];
}

/**
 * One chunk of the plan's groups or rows, as one JSON array parameter: each
 * value goes through its column type's input function.
 *
 *   insert into "pg_temp"."ld_plan" select * from jsonb_populate_recordset(null::"pg_temp"."ld_plan", $1::jsonb)
 */
export function insertPlanChunkStatement(target: 'groups' | 'rows', json: string): RawBuilder<unknown> {
  const into = PLAN_TEMP[target];
  return sql`insert into ${into} select * from jsonb_populate_recordset(null::${into}, ${json}::jsonb)`;
}

export function indexPlanTablesStatements(): RawBuilder<unknown>[] {
  return [
    sql`create index on ${PLAN_TEMP.groups} (group_no)`,
    sql`create index on ${PLAN_TEMP.rows} (row_id)`,
    sql`create index on ${PLAN_TEMP.rows} (group_no)`,
    sql`analyze ${PLAN_TEMP.groups}`,
    sql`analyze ${PLAN_TEMP.rows}`,
  ];
}

export function dropPlanTablesStatement(): RawBuilder<unknown> {
  return sql`drop table if exists ${PLAN_TEMP.groups}, ${PLAN_TEMP.rows}, ${PLAN_TEMP.done}`;
}

/** A group id the plan lists twice: the first two lines. */
export function repeatedGroupQuery(): RawBuilder<{ group_id: string; lines: number[] }> {
  return sql`select group_id, (array_agg(line_no order by line_no))[1:2] as lines
from ${PLAN_TEMP.groups}
group by group_id
having count(*) > 1
order by min(line_no)
limit 1`;
}

/** An id the plan lists in two groups: the first two lines. */
export function repeatedRowQuery(): RawBuilder<{ id: string; lines: number[] }> {
  return sql`select row_id::text as id, (array_agg(line_no order by line_no))[1:2] as lines
from ${PLAN_TEMP.rows}
group by row_id
having count(*) > 1
order by min(line_no)
limit 1`;
}

/**
 * A planned row that is unchanged since the plan (same fingerprint) yet does
 * not carry its group's key: the plan was edited to put it in another group.
 * (A row that changed is stale, not wrong: apply skips its group.) Runs after
 * fingerprintSettingsStatement, in its transaction. The fingerprint (the
 * whole row as text) is computed only for a row whose key is not its
 * group's: first for every planned row, it cost 1.2 s at 1M rows, now 0.9 s.
 */
export function foreignRowQuery(key: ResolvedKey): RawBuilder<{ line_no: number; id: string; group_id: string }> {
  const table = key.table;
  const id = columnRef(table.idColumn, 'l');
  return sql`select p.line_no, p.row_id::text as id, g.group_id
from ${PLAN_TEMP.rows} as p
join ${PLAN_TEMP.groups} as g on g.group_no = p.group_no
join lateral (select l as whole_row, ${groupableRows(key, 'l')} as groupable, ${groupIdOf(keyExpressions(key, 'l'))} as key_group
              from ${tableRef(table)} as l
              where ${id} = p.row_id
              offset 0) as k on true
where not g.reviewed and case when k.groupable and k.key_group = g.group_id then false else ${rowFingerprint(sql`k.whole_row`)} = p.fingerprint end
order by p.line_no
limit 1`;
}

/**
 * The current version of planned row p (`from … as p`), looked up by its id:
 * its id and fingerprint. OFFSET 0 keeps it a lookup
 * per planned row: pulled up into a join, the fingerprint would be computed
 * for every row of the table.
 */
export function currentVersion(table: LeadTable): RawBuilder<unknown> {
  const id = columnRef(table.idColumn, 'l');
  return sql`(select ${id} as row_id, ${rowFingerprint('l')} as fingerprint
  from ${tableRef(table)} as l
  where ${id} = p.row_id
  offset 0)`;
}
