import { sql, type RawBuilder } from 'kysely';
import type { ResolvedKey } from '../keys/key-definition.js';
import { columnRef, groupIdOf, groupableRows, keyAliases, keyExpressions, sameKey, tableRef } from '../keys/key-sql.js';
import type { ChildReference, KeepPolicy } from './clean-model.js';
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
 * reports), numbered by group in key order and cut into batches. Only the
 * duplicate keys' rows are joined, so the ranking later touches ~5% of the
 * table, not all of it (BASELINE e2).
 *
 * A batch holds at most `batchSize` groups and at most `batchRows` rows
 * (the row locks one transaction holds). Groups of up to half the row cap
 * share batches: a batch takes the groups whose first row falls in the same
 * window of batchRows + 1 - M rows, M the largest of these groups (so the
 * last one still ends within batchRows; with groups of 39 the windows are
 * 9,962 rows), and in the same window of batchSize groups. A larger group
 * gets a batch of its own; one larger than the cap
 * is cut, in id order, into chunks of batchRows - 1 rows (its keeper is
 * locked with every chunk), each chunk a batch of its own.
 *
 *   create temporary table ld_stage as
 *   select row_id, group_no, group_id, chunked, (dense_rank() over (order by row_window, group_window, alone, chunk) - 1)::int4 as batch_no
 *   from (select l."id" as row_id, b.group_no, b.group_id, b.n > 10000 as chunked, b.row_window, b.group_window, b.alone,
 *                case when b.n > 10000 then (row_number() over (partition by b.group_no order by l."id") - 1) / 9999 else 0 end as chunk
 *         from (select g.*, md5(…) as group_id, case when g.n > 5000 then g.group_no else 0 end as alone,
 *                      coalesce(sum(case when g.n > 5000 then 0 else g.n end) over (order by g.group_no rows between unbounded preceding and 1 preceding), 0)::int8
 *                        / (10001 - max(case when g.n > 5000 then 0 else g.n end) over ()) as row_window,
 *                      (g.group_no - 1) / 1000 as group_window
 *               from (select dg.*, row_number() over (order by ld_k1, ld_k2) as group_no
 *                     from (<duplicate groups>) as dg order by ld_k1, ld_k2 limit all) as g) as b
 *         join "public"."leads" as l on <same key>) as x
 */
export function stageStatements(key: ResolvedKey, batchSize: number, batchRows: number, maxGroups: number | null): RawBuilder<unknown>[] {
  return [
    sql`drop table if exists ${TEMP.stage}, ${TEMP.chunkKeepers}`,
    sql`create temporary table ld_stage as
${stageQuery(key, batchSize, batchRows, maxGroups)}`,
    sql`create index on ${TEMP.stage} (batch_no)`,
    sql`create index on ${TEMP.stage} (row_id)`,
    sql`analyze ${TEMP.stage}`,
    sql`create temporary table ld_chunk_keepers as select row_id as keeper_id, group_no, 0::int4 as first_batch from ${TEMP.stage} limit 0`,
  ];
}

/** The staged rows (ld_stage's SELECT; the read-only dry run uses it as a CTE, so it counts the same batches). */
export function stageQuery(key: ResolvedKey, batchSize: number, batchRows: number, maxGroups: number | null): RawBuilder<unknown> {
  const order = sql.join(keyAliases(key).map((alias) => sql.id(alias)));
  const limit = maxGroups === null ? sql`all` : sql.lit(maxGroups);
  const half = sql.lit(Math.max(1, Math.floor(batchRows / 2)));
  const cap = sql.lit(batchRows);
  const chunk = sql.lit(Math.max(1, batchRows - 1));
  const groupId = groupIdOf(keyAliases(key).map((alias) => sql.id('g', alias)));
  return sql`select row_id, group_no, group_id, chunked, (dense_rank() over (order by row_window, group_window, alone, chunk) - 1)::int4 as batch_no
from (select ${columnRef(key.table.idColumn, 'l')} as row_id, b.group_no, b.group_id, b.n > ${cap} as chunked, b.row_window, b.group_window, b.alone,
             case when b.n > ${cap} then (row_number() over (partition by b.group_no order by ${columnRef(key.table.idColumn, 'l')}) - 1) / ${chunk} else 0 end as chunk
      from (select g.*, ${groupId} as group_id, case when g.n > ${half} then g.group_no else 0 end as alone,
                   coalesce(sum(case when g.n > ${half} then 0 else g.n end) over (order by g.group_no rows between unbounded preceding and 1 preceding), 0)::int8
                     / (${cap} + 1 - max(case when g.n > ${half} then 0 else g.n end) over ()) as row_window,
                   (g.group_no - 1) / ${sql.lit(batchSize)} as group_window
            from (select dg.*, row_number() over (order by ${order}) as group_no
                  from (${duplicateGroupsQuery(key)}) as dg
                  order by ${order}
                  limit ${limit}) as g) as b
      join ${tableRef(key.table)} as l on ${sameKey(key, 'l', 'b')}) as x`;
}

export function stageSummaryQuery(): RawBuilder<{ groups: string | number | null; rows: string | number; batches: string | number | null }> {
  return sql`select max(group_no) as groups, count(*) as rows, max(batch_no) + 1 as batches from ${TEMP.stage}`;
}

export function dropStageStatement(): RawBuilder<unknown> {
  return sql`drop table if exists ${TEMP.stage}, ${TEMP.chunkKeepers}`;
}

/**
 * The keeper of a group too large for one batch, chosen when its first
 * chunk comes up, by the same --keep order over all the group's rows that
 * still carry its key (read, not locked: only the chunk's rows and the
 * keeper are locked, in lockBatchStatement). Later chunks keep this keeper.
 */
export function chooseChunkKeepersStatement(key: ResolvedKey, batch: number, keep: KeepPolicy): RawBuilder<unknown> {
  const expressions = keyExpressions(key, 'l');
  const id = columnRef(key.table.idColumn, 'l');
  const created = key.table.createdColumn === null ? sql`null::int` : columnRef(key.table.createdColumn, 'l');
  return sql`insert into ${TEMP.chunkKeepers} (keeper_id, group_no, first_batch)
select distinct on (group_no) row_id, group_no, ${sql.lit(batch)}::int4
from (select ${id} as row_id, s.group_no, ${created} as created, ${keep === 'most-complete' ? filledColumns('l') : sql`null::int8`} as filled
      from ${TEMP.stage} as s
      join ${tableRef(key.table)} as l on ${id} = s.row_id
      where s.group_no in (select group_no from ${TEMP.stage} where batch_no = ${sql.lit(batch)} and chunked)
        and s.group_no not in (select group_no from ${TEMP.chunkKeepers})
        and ${groupIdOf(expressions)} = s.group_id and ${groupableRows(key, 'l')}) as r
order by group_no, ${keeperOrder(keep)}`;
}

/**
 * Locks a batch's rows and re-reads them: the key is computed again from
 * the locked (current) row versions, so a row the webhook changed since the
 * staging joins the group it now belongs to, and a deleted row is simply
 * gone. `batch` null = every staged row (the dry run, which locks nothing).
 * The filled-column count costs a jsonb expansion per row, so only
 * most-complete computes it. A chunk of a large group also locks the
 * group's keeper (`forced`); `chunk_state` says whether the keeper was
 * chosen in this batch ('first') or an earlier one ('continued'). Each row
 * carries its staged batch_no: the dry run, which ranks every batch at
 * once, tells by it which rows --execute removes in an earlier batch.
 *
 *   create temporary table ld_locked on commit drop as
 *   select l."id" as row_id, jsonb_build_array(<key>) as key_values, md5(…) as group_id,
 *          l."created_at" as created, <non-empty columns> as filled, s.batch_no, s.chunked, coalesce(k.keeper_id = l."id", false) as forced,
 *          case when k.first_batch = 3 then 'first' when k.first_batch < 3 then 'continued' end as chunk_state
 *   from "public"."leads" as l
 *   join pg_temp.ld_stage as s on s.row_id = l."id"
 *   left join pg_temp.ld_chunk_keepers as k on k.group_no = s.group_no
 *   where l."id" in (select row_id from pg_temp.ld_stage where batch_no = 3
 *                   union all select keeper_id from pg_temp.ld_chunk_keepers where group_no in (select group_no from pg_temp.ld_stage where batch_no = 3))
 *   order by l."id" for update of l
 */
export function lockBatchStatement(key: ResolvedKey, batch: number | null, lock: boolean, keep: KeepPolicy): RawBuilder<unknown> {
  return sql`create temporary table ld_locked on commit drop as
${lockedRowsQuery(key, TEMP.stage, batch, lock, keep)}`;
}

/**
 * ld_locked's SELECT over the staged ids in `stage` (a temp table, or the
 * dry run's CTE). Only a batch of --execute has chosen chunk keepers
 * (ld_chunk_keepers); the dry run (`batch` null) counts a large group whole,
 * with no forced keeper.
 */
export function lockedRowsQuery(key: ResolvedKey, stage: RawBuilder<unknown>, batch: number | null, lock: boolean, keep: KeepPolicy): RawBuilder<unknown> {
  const expressions = keyExpressions(key, 'l');
  const id = columnRef(key.table.idColumn, 'l');
  const created = key.table.createdColumn === null ? sql`null::int` : columnRef(key.table.createdColumn, 'l');
  const columns = sql`${id} as row_id, jsonb_build_array(${sql.join(expressions)}) as key_values, ${groupIdOf(expressions)} as group_id,
       ${created} as created, ${keep === 'most-complete' ? filledColumns('l') : sql`null::int8`} as filled`;
  if (batch === null) {
    return sql`select ${columns},
       s.batch_no, s.chunked, false as forced, null::text as chunk_state
from ${tableRef(key.table)} as l
join ${stage} as s on s.row_id = ${id}
where ${groupableRows(key, 'l')}
order by ${id}${lock ? sql` for update of l` : sql``}`;
  }
  const inBatch = sql`select group_no from ${stage} where batch_no = ${sql.lit(batch)}`;
  return sql`select ${columns},
       s.batch_no, s.chunked, coalesce(k.keeper_id = ${id}, false) as forced,
       case when k.first_batch = ${sql.lit(batch)} then 'first' when k.first_batch < ${sql.lit(batch)} then 'continued' end as chunk_state
from ${tableRef(key.table)} as l
join ${stage} as s on s.row_id = ${id}
left join ${TEMP.chunkKeepers} as k on k.group_no = s.group_no
where ${id} in (select row_id from ${stage} where batch_no = ${sql.lit(batch)}
                union all select keeper_id from ${TEMP.chunkKeepers} where group_no in (${inBatch}))
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

/**
 * ld_members' SELECT: the rows of `locked` ranked in their current groups.
 * A chunk of a large group ranks the keeper its first chunk chose first;
 * if that keeper no longer carries the group's key (changed or removed
 * meanwhile), the chunk is left alone for the next run.
 */
export function rankedMembersQuery(keep: KeepPolicy, locked: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`select row_id, group_id, key_values, batch_no, chunk_state,
       first_value(row_id) over w as keeper_id,
       row_number() over w as rank_in_group
from (select *, count(*) over (partition by group_id) as group_size,
             bool_or(chunk_state is not null) over (partition by group_id) as chunk_keeper_chosen,
             bool_or(forced) over (partition by group_id) as has_chunk_keeper
      from ${locked}) as r
where group_size > 1 and (not chunk_keeper_chosen or has_chunk_keeper)
window w as (partition by group_id order by forced desc, ${keeperOrder(keep)})`;
}

/** Records the groups one skip query (`… from (…) as x`) finds, unless an earlier reason already skipped them. */
function skipStatement(query: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`insert into ${TEMP.skipped} (group_id, reason)
${query}
where not exists (select 1 from ${TEMP.skipped} as s where s.group_id = x.group_id)`;
}

/**
 * Groups whose re-pointing would break a unique index on a child table:
 * after the move every child row of the group carries the keeper's id, so
 * two child rows that agree on the index's other columns collide. Those
 * groups are recorded in ld_skipped; `dropSkippedStatement` then removes
 * them from the batch, so nothing of them changes.
 */
export function childConflictStatements(references: ChildReference[]): RawBuilder<unknown>[] {
  return childConflictQueries(references, TEMP.members).map(skipStatement);
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

/**
 * A group whose keeper references one of its own copies through a NOT NULL
 * self-reference cannot be cleaned: the keeper would have to become its own
 * parent. Such groups are skipped and reported, like child unique conflicts
 * (after them: the first reason wins).
 */
export function selfParentConflictStatements(references: ChildReference[], idColumn: string): RawBuilder<unknown>[] {
  return selfParentConflictQueries(references, idColumn, TEMP.members).map(skipStatement);
}

/** One SELECT (group_id, reason) per NOT NULL self-reference; the rows come `from (…) as x`. */
export function selfParentConflictQueries(references: ChildReference[], idColumn: string, members: RawBuilder<unknown>): RawBuilder<unknown>[] {
  return references
    .filter((reference) => reference.self && reference.notNull)
    .map((reference) => {
      const reason = `its keeper references a copy of itself through ${reference.table}.${reference.column}, which is NOT NULL: it would become its own parent`;
      return sql`select distinct x.group_id, ${reason}::text
from (select m.group_id
      from ${sql.id(reference.schema, reference.table)} as c
      join ${members} as m on ${columnRef(reference.column, 'c')} = m.row_id
      where m.rank_in_group > 1 and ${columnRef(idColumn, 'c')} = m.keeper_id) as x`;
    });
}

export function dropSkippedStatement(): RawBuilder<unknown> {
  return sql`delete from ${TEMP.members} where group_id in (select group_id from ${TEMP.skipped})`;
}

/**
 * The child rows a batch re-points, as a condition on the child (c) and
 * the batch's members (m): every row that references a removed lead.
 * A self-reference (leads.parent_id → leads.id) leaves out rows that are
 * themselves removed (they leave with their archived, original value): in
 * --execute those of this batch (earlier batches' are gone already); in the
 * dry run (`allBatches`), which ranks every batch at once, those of this or
 * an earlier batch (the batch_no each member carries from the stage), so
 * both count the same rows.
 */
export function movedRowsCondition(reference: ChildReference, idColumn: string, allBatches: boolean, members: RawBuilder<unknown> = TEMP.members): RawBuilder<unknown> {
  const moved = sql`${columnRef(reference.column, 'c')} = m.row_id and m.rank_in_group > 1`;
  if (!reference.self) return moved;
  const sameOrEarlier = allBatches ? sql` and v.batch_no <= m.batch_no` : sql``;
  return sql`${moved}
  and not exists (select 1 from ${members} as v where v.row_id = ${columnRef(idColumn, 'c')} and v.rank_in_group > 1${sameOrEarlier})`;
}

/** The moved rows of one child with their batch member: `from <child> as c join ld_members as m on …`. */
export function movedRowsFrom(reference: ChildReference, idColumn: string, allBatches: boolean, members: RawBuilder<unknown> = TEMP.members): RawBuilder<unknown> {
  return sql`from ${sql.id(reference.schema, reference.table)} as c
join ${members} as m on ${movedRowsCondition(reference, idColumn, allBatches, members)}`;
}

/**
 * The value a moved row gets: the keeper; for a self-reference, a keeper
 * that referenced a copy of itself gets NULL instead of itself (no
 * self-cycles; the archive keeps the old value, restore puts it back).
 */
export function movedRowValue(reference: ChildReference, idColumn: string): RawBuilder<unknown> {
  return reference.self ? sql`case when ${columnRef(idColumn, 'c')} = m.keeper_id then null else m.keeper_id end` : sql`m.keeper_id`;
}

/** Re-points one child table's rows from the removed leads to their keeper (archive first: archive-plan.ts). */
export function repointStatement(reference: ChildReference, idColumn: string): RawBuilder<unknown> {
  return sql`update ${sql.id(reference.schema, reference.table)} as c
set ${sql.id(reference.column)} = ${movedRowValue(reference, idColumn)}
from ${TEMP.members} as m
where ${movedRowsCondition(reference, idColumn, false)}`;
}

/** The dry run's count over every batch's members at once (`members`: its CTE): exactly the rows --execute re-points, batch by batch. */
export function childRowsToMoveQuery(reference: ChildReference, idColumn: string, members: RawBuilder<unknown> = TEMP.members): RawBuilder<{ n: string | number }> {
  return sql`select count(*) as n
${movedRowsFrom(reference, idColumn, true, members)}`;
}

/** The delete itself, on the materialised victim ids. */
export function deleteVictimsStatement(key: ResolvedKey): RawBuilder<unknown> {
  return sql`delete from ${tableRef(key.table)} as l
using ${TEMP.members} as m
where ${columnRef(key.table.idColumn, 'l')} = m.row_id and m.rank_in_group > 1`;
}

/** A large group counts once, in the batch of its first chunk; `locked` is every row the batch locked (or read). */
export function batchCountsQuery(): RawBuilder<{ groups: string | number; victims: string | number; locked: string | number }> {
  return sql`select count(distinct group_id) filter (where chunk_state is distinct from 'continued') as groups,
       count(*) filter (where rank_in_group > 1) as victims, (select count(*) from ${TEMP.locked}) as locked
from ${TEMP.members}`;
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
