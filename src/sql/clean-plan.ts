import { sql, type RawBuilder } from 'kysely';
import type { ResolvedKey } from '../keys/key-definition.js';
import { columnRef, groupIdOf, groupableRows, keyAliases, keyExpressions, sameKey, tableRef } from '../keys/key-sql.js';
import type { ChildReference, KeepPolicy } from '../core/clean/clean-types.js';
import { duplicateGroupsQuery } from './duplicate-groups.js';
import { TEMP } from './clean-temp-tables.js';

/**
 * The statements of a clean-up, as pure functions of the key. The executor
 * (core/clean) runs `stageStatements` once, then per batch, in one
 * transaction: lock → rank → skip checks → archive → merge → re-point →
 * delete. Nothing is pulled into Node: every step is INSERT … SELECT,
 * UPDATE … FROM or DELETE … USING on the materialised id lists.
 */

/**
 * Materialises the rows of the duplicate groups (exactly the groups scan
 * reports), numbered by group in key order and cut into batches of
 * `batchSize` groups. Only the duplicate keys' rows are joined, so the
 * ranking later touches ~5% of the table, not all of it (BASELINE e2).
 *
 *   create temporary table ld_stage as
 *   select l."id" as row_id, g.group_no, (g.group_no - 1) / 1000 as batch_no
 *   from (select dg.*, row_number() over (order by ld_k1, ld_k2) as group_no
 *         from (<duplicate groups>) as dg order by ld_k1, ld_k2 limit all) as g
 *   join "public"."leads" as l on <same key>
 */
export function stageStatements(key: ResolvedKey, batchSize: number, maxGroups: number | null): RawBuilder<unknown>[] {
  return [
    sql`drop table if exists ${TEMP.stage}`,
    sql`create temporary table ld_stage as
${stageQuery(key, batchSize, maxGroups)}`,
    sql`create index on ${TEMP.stage} (batch_no)`,
    sql`analyze ${TEMP.stage}`,
  ];
}

/** The staged rows (ld_stage's SELECT; the read-only dry run uses it as a CTE). */
export function stageQuery(key: ResolvedKey, batchSize: number, maxGroups: number | null): RawBuilder<unknown> {
  const order = sql.join(keyAliases(key).map((alias) => sql.id(alias)));
  const limit = maxGroups === null ? sql`all` : sql.lit(maxGroups);
  return sql`select ${columnRef(key.table.idColumn, 'l')} as row_id, g.group_no, (g.group_no - 1) / ${sql.lit(batchSize)} as batch_no
from (select dg.*, row_number() over (order by ${order}) as group_no
      from (${duplicateGroupsQuery(key)}) as dg
      order by ${order}
      limit ${limit}) as g
join ${tableRef(key.table)} as l on ${sameKey(key, 'l', 'g')}`;
}

export function stageSummaryQuery(): RawBuilder<{ groups: string | number | null; rows: string | number; batches: string | number | null }> {
  return sql`select max(group_no) as groups, count(*) as rows, max(batch_no) + 1 as batches from ${TEMP.stage}`;
}

export function dropStageStatement(): RawBuilder<unknown> {
  return sql`drop table if exists ${TEMP.stage}`;
}

/**
 * Locks a batch's rows and re-reads them: the key is computed again from
 * the locked (current) row versions, so a row the webhook changed since the
 * staging joins the group it now belongs to, and a deleted row is simply
 * gone. `batch` null = every staged row (the dry run, which locks nothing).
 * The filled-column count costs a jsonb expansion per row, so only
 * most-complete computes it.
 *
 *   create temporary table ld_locked on commit drop as
 *   select l."id" as row_id, jsonb_build_array(<key>) as key_values, md5(…) as group_id,
 *          l."created_at" as created, <non-empty columns> as filled
 *   from "public"."leads" as l
 *   where l."id" in (select row_id from pg_temp.ld_stage where batch_no = 3)
 *   order by l."id" for update of l
 */
export function lockBatchStatement(key: ResolvedKey, batch: number | null, lock: boolean, keep: KeepPolicy): RawBuilder<unknown> {
  return sql`create temporary table ld_locked on commit drop as
${lockedRowsQuery(key, TEMP.stage, batch, lock, keep)}`;
}

/** ld_locked's SELECT over the staged ids in `stage` (a temp table, or the dry run's CTE). */
export function lockedRowsQuery(key: ResolvedKey, stage: RawBuilder<unknown>, batch: number | null, lock: boolean, keep: KeepPolicy): RawBuilder<unknown> {
  const expressions = keyExpressions(key, 'l');
  const id = columnRef(key.table.idColumn, 'l');
  const created = key.table.createdColumn === null ? sql`null::int` : columnRef(key.table.createdColumn, 'l');
  const inBatch = batch === null ? sql`true` : sql`batch_no = ${sql.lit(batch)}`;
  return sql`select ${id} as row_id, jsonb_build_array(${sql.join(expressions)}) as key_values, ${groupIdOf(expressions)} as group_id,
       ${created} as created, ${keep === 'most-complete' ? filledColumns('l') : sql`null::int8`} as filled
from ${tableRef(key.table)} as l
where ${id} in (select row_id from ${stage} where ${inBatch})
  and ${groupableRows(key, 'l')}
order by ${id}${lock ? sql` for update of l` : sql``}`;
}

/** How many columns of a row hold something: not NULL and not blank. */
function filledColumns(alias: string): RawBuilder<number> {
  return sql<number>`(select count(*) from jsonb_each_text(to_jsonb(${sql.id(alias)})) as e(name, value) where e.value is not null and btrim(e.value) <> '')`;
}

/** The keeper first: the order a group is ranked in for each --keep policy; ties end on the id. */
export function keeperOrder(keep: KeepPolicy): RawBuilder<unknown> {
  switch (keep) {
    case 'oldest':
      return sql`created asc nulls last, row_id asc`;
    case 'newest':
      return sql`created desc nulls last, row_id desc`;
    case 'most-complete':
      return sql`filled desc, created asc nulls last, row_id asc`;
    default:
      return keep satisfies never;
  }
}

/**
 * Ranks the locked rows within their (current) groups; groups that are no
 * longer duplicates drop out. rank 1 is the keeper, the others are removed.
 */
export function rankStatements(keep: KeepPolicy): RawBuilder<unknown>[] {
  return [
    sql`create temporary table ld_members on commit drop as
${rankedMembersQuery(keep, TEMP.locked)}`,
    sql`create index on ${TEMP.members} (row_id)`,
    sql`analyze ${TEMP.members}`,
    sql`create temporary table ld_skipped (group_id text not null, reason text not null) on commit drop`,
  ];
}

/** ld_members' SELECT: the rows of `locked` ranked in their current groups. */
export function rankedMembersQuery(keep: KeepPolicy, locked: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`select row_id, group_id, key_values,
       first_value(row_id) over w as keeper_id,
       row_number() over w as rank_in_group
from (select *, count(*) over (partition by group_id) as group_size from ${locked}) as r
where group_size > 1
window w as (partition by group_id order by ${keeperOrder(keep)})`;
}

/**
 * Groups whose re-pointing would break a unique index on a child table:
 * after the move every child row of the group carries the keeper's id, so
 * two child rows that agree on the index's other columns collide. Those
 * groups are recorded in ld_skipped; `dropSkippedStatement` then removes
 * them from the batch, so nothing of them changes.
 */
export function childConflictStatements(references: ChildReference[]): RawBuilder<unknown>[] {
  return childConflictQueries(references, TEMP.members).map(
    (query) => sql`insert into ${TEMP.skipped} (group_id, reason)
${query}
where not exists (select 1 from ${TEMP.skipped} as s where s.group_id = x.group_id)`,
  );
}

/** One SELECT (group_id, reason) per child unique index, in the order the first reason wins; the rows come `from (…) as x`. */
export function childConflictQueries(references: ChildReference[], members: RawBuilder<unknown>): RawBuilder<unknown>[] {
  const queries: RawBuilder<unknown>[] = [];
  for (const reference of references) {
    for (const index of reference.uniqueIndexes) {
      const others = index.columns.filter((column) => column !== reference.column);
      const notNull = index.nullsNotDistinct ? [] : others.map((column) => sql`${columnRef(column, 'c')} is not null`);
      const reason = `unique index ${index.name} on ${reference.schema}.${reference.table} (${index.columns.join(', ')})`;
      queries.push(sql`select distinct x.group_id, ${reason}::text
from (select m.group_id
      from ${sql.id(reference.schema, reference.table)} as c
      join ${members} as m on ${columnRef(reference.column, 'c')} = m.row_id
      where ${sql.join([sql`true`, ...notNull], sql` and `)}
      group by ${sql.join([sql`m.group_id`, ...others.map((column) => columnRef(column, 'c'))])}
      having count(*) > 1) as x`);
    }
  }
  return queries;
}

export function dropSkippedStatement(): RawBuilder<unknown> {
  return sql`delete from ${TEMP.members} where group_id in (select group_id from ${TEMP.skipped})`;
}

/** Re-points one child table's rows from the removed leads to their keeper (archive first: archive-plan.ts). */
export function repointStatement(reference: ChildReference): RawBuilder<unknown> {
  const column = sql.id(reference.column);
  return sql`update ${sql.id(reference.schema, reference.table)} as c
set ${column} = m.keeper_id
from ${TEMP.members} as m
where ${columnRef(reference.column, 'c')} = m.row_id and m.rank_in_group > 1`;
}

export function childRowsToMoveQuery(reference: ChildReference, members: RawBuilder<unknown> = TEMP.members): RawBuilder<{ n: string | number }> {
  return sql`select count(*) as n
from ${sql.id(reference.schema, reference.table)} as c
join ${members} as m on ${columnRef(reference.column, 'c')} = m.row_id
where m.rank_in_group > 1`;
}

/** The delete itself, on the materialised victim ids. */
export function deleteVictimsStatement(key: ResolvedKey): RawBuilder<unknown> {
  return sql`delete from ${tableRef(key.table)} as l
using ${TEMP.members} as m
where ${columnRef(key.table.idColumn, 'l')} = m.row_id and m.rank_in_group > 1`;
}

export function batchCountsQuery(): RawBuilder<{ groups: string | number; victims: string | number }> {
  return sql`select count(distinct group_id) as groups, count(*) filter (where rank_in_group > 1) as victims from ${TEMP.members}`;
}

export function skippedGroupsQuery(): RawBuilder<{ group_id: string; reason: string }> {
  return sql`select group_id, reason from ${TEMP.skipped} order by group_id`;
}

/** The dry run's sample: the largest groups first, with keeper and losers in rank order. */
export function sampleGroupsQuery(
  limit: number,
  members: RawBuilder<unknown> = TEMP.members,
): RawBuilder<{ group_id: string; key_values: unknown[]; keeper: string; losers: string[] }> {
  return sql`select group_id, key_values, keeper_id::text as keeper,
       array_agg(row_id::text order by rank_in_group) filter (where rank_in_group > 1) as losers
from ${members}
group by group_id, key_values, keeper_id
order by count(*) desc, group_id
limit ${sql.lit(limit)}`;
}
