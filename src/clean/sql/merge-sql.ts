import { sql, type RawBuilder } from 'kysely';
import type { LeadTable, ResolvedKey } from '../../keys/key-definition.js';
import { columnRef, groupIdOf, groupableRows, keyExpressions, tableRef } from '../../keys/key-sql.js';
import type { BatchArchive, BatchScope, MergeRule } from '../model.js';
import { archiveRef } from './archive-sql.js';
import { sessionRows, TEMP } from './temp-tables-sql.js';
import { WHOLE_BATCH } from './shard-pin-sql.js';

/** A column merge may fill, with the rule that picks the donor value. */
export interface MergeColumn {
  name: string;
  isText: boolean;
  rule: Exclude<MergeRule, 'keeper'>;
}

/** NULL, or blank text: what merge fills. */
export function isEmpty(column: MergeColumn, alias: string): RawBuilder<boolean> {
  const ref = columnRef(column.name, alias);
  return column.isText ? sql<boolean>`(${ref} is null or btrim(${ref}) = '')` : sql<boolean>`(${ref} is null)`;
}

/** Which donor wins: newest/oldest by the created time (then id); longest by text length, then newest. */
function donorOrder(table: LeadTable, column: MergeColumn): RawBuilder<unknown> {
  const id = columnRef(table.idColumn, 'd');
  const created = table.createdColumn === null ? null : columnRef(table.createdColumn, 'd');
  const newest = created === null ? sql`${id} desc` : sql`${created} desc nulls last, ${id} desc`;
  switch (column.rule) {
    case 'newest':
      return newest;
    case 'oldest':
      return created === null ? sql`${id} asc` : sql`${created} asc nulls last, ${id} asc`;
    case 'longest':
      return sql`length(${columnRef(column.name, 'd')}::text) desc, ${newest}`;
    default:
      return column.rule satisfies never;
  }
}

/** ld_m1, ld_m2, …: the merged values' aliases, apart from any table column name. */
const mergedAlias = (index: number) => sql.id(`ld_m${index + 1}`);

/**
 * The rows each keeper of the batch takes donor values from: its group's
 * losers in this batch; for a large group cut into chunks, every row of the
 * group that still carries its key (read, not locked), once, in the batch
 * of its first chunk, and none in later chunks (the keeper is merged already).
 *
 *   create temporary table ld_donors on commit drop as
 *   select keeper_id, group_id, row_id from pg_temp.ld_members where rank_in_group > 1 and chunk_state is null
 *   union all
 *   select k.keeper_id, s.group_id, s.row_id
 *   from pg_temp.ld_chunk_keepers as k join pg_temp.ld_stage as s on s.group_no = k.group_no
 *   join "public"."leads" as d on d."id" = s.row_id
 *   where k.first_batch = 3 and s.row_id <> k.keeper_id and md5(…) = s.group_id and <groupable>
 *     and exists (select 1 from pg_temp.ld_members as m where m.row_id = k.keeper_id)
 */
export function donorsStatement(key: ResolvedKey, batch: number | null, scope: BatchScope = WHOLE_BATCH): RawBuilder<unknown> {
  return sql`create temporary table ld_donors on commit drop as
${donorsQuery(key, batch, TEMP.members, scope)}`;
}

/**
 * ld_donors' SELECT over the ranked rows in `members` (a temp table, or the
 * dry run's CTE). `batch` null (the dry run) has no chunk keepers: every
 * group is ranked whole, its losers are its donors.
 */
export function donorsQuery(key: ResolvedKey, batch: number | null, members: RawBuilder<unknown>, scope: BatchScope = WHOLE_BATCH): RawBuilder<unknown> {
  const losers = sql`select keeper_id, group_id, row_id from ${members} where rank_in_group > 1 and chunk_state is null`;
  if (batch === null) return losers;
  const id = columnRef(key.table.idColumn, 'd');
  // The session's tables are joined in a subquery of their own: Citus joins a distributed table only to a subquery of local tables.
  return sql`${losers}
union all
select s.keeper_id, s.group_id, s.row_id
from (select k.keeper_id, s.group_id, s.row_id
      from ${TEMP.chunkKeepers} as k join ${TEMP.stage} as s on s.group_no = k.group_no
      where k.first_batch = ${sql.lit(batch)} and s.row_id <> k.keeper_id
        and exists (select 1 from ${members} as m where m.row_id = k.keeper_id)) as s
join ${tableRef(key.table)} as d on ${id} = s.row_id
where ${groupIdOf(keyExpressions(key, 'd'))} = s.group_id and ${groupableRows(key, 'd')}${scope.leads('d')}`;
}

/**
 * One aggregate pass over the batch's donors (donorsStatement): per keeper, the donor value of
 * each mergeable column (the first non-empty value in the rule's order).
 *
 *   create temporary table ld_merge on commit drop as
 *   select m.keeper_id as ld_keeper_id, m.group_id,
 *          (array_agg(d."email" order by d."created_at" desc nulls last, d."id" desc)
 *             filter (where not ("email" is null or btrim("email") = '')))[1] as ld_m1
 *   from pg_temp.ld_donors as m join "public"."leads" as d on d."id" = m.row_id
 *   group by m.keeper_id, m.group_id
 */
export function mergeValuesStatement(table: LeadTable, columns: MergeColumn[], scope: BatchScope = WHOLE_BATCH): RawBuilder<unknown> {
  return sql`create temporary table ld_merge on commit drop as
${mergeValuesQuery(table, columns, TEMP.donors, scope)}`;
}

/** ld_merge's SELECT over the (keeper_id, group_id, row_id) rows in `donors` (a temp table, or the dry run's CTE). */
export function mergeValuesQuery(table: LeadTable, columns: MergeColumn[], donors: RawBuilder<unknown>, scope: BatchScope = WHOLE_BATCH): RawBuilder<unknown> {
  const values = columns.map(
    (column, index) =>
      sql`(array_agg(${columnRef(column.name, 'd')} order by ${donorOrder(table, column)}) filter (where not ${isEmpty(column, 'd')}))[1] as ${mergedAlias(index)}`,
  );
  return sql`select m.keeper_id as ld_keeper_id, m.group_id, ${sql.join(values)}
from ${donors} as m
join ${tableRef(table)} as d on ${columnRef(table.idColumn, 'd')} = m.row_id${scope.leads('d')}
group by m.keeper_id, m.group_id`;
}

/** Column i of keeper t gets filled: it is empty and a donor has a value. */
function fills(column: MergeColumn, index: number): RawBuilder<boolean> {
  return sql<boolean>`(${isEmpty(column, 't')} and g.${mergedAlias(index)} is not null)`;
}

function anyFill(columns: MergeColumn[]): RawBuilder<boolean> {
  return sql<boolean>`(${sql.join(columns.map(fills), sql` or `)})`;
}

/**
 * Archives each keeper that the merge will change, as it is now, with the
 * names of the columns that will be filled (restore puts back only those).
 */
export function archiveKeepersStatement(
  { schema, runId, batch }: BatchArchive,
  table: LeadTable,
  columns: MergeColumn[],
  scope: BatchScope = WHOLE_BATCH,
): RawBuilder<unknown> {
  const names = columns.map((column, index) => sql`case when ${fills(column, index)} then ${column.name}::text end`);
  return sql`insert into ${archiveRef(schema, 'lead_dedupe_keepers')} (run_id, batch_no, group_id, row_id, merged_columns, row_data)
select ${runId}::int8, ${batch}::int4, g.group_id, ${columnRef(table.idColumn, 't')}::text,
       array_remove(array[${sql.join(names)}], null), to_jsonb(t)
from ${tableRef(table)} as t
join ${TEMP.merge} as g on ${columnRef(table.idColumn, 't')} = g.ld_keeper_id
where ${anyFill(columns)}${scope.leads('t')}`;
}

/**
 * After the merge: records in each archived keeper what the merge wrote into
 * the columns it filled, read back from the table (a trigger may have
 * changed it). restore puts a column back only while it still holds this.
 *
 *   update "lead_dedupe"."lead_dedupe_keepers" as k
 *   set merged_data = (select jsonb_object_agg(e.key, e.value) from jsonb_each(t.row_data) as e where e.key = any(k.merged_columns))
 *   from pg_temp.ld_merged_rows as t
 *   where k.run_id = 7 and k.row_id = any(array(select ld_keeper_id::text from pg_temp.ld_merged_rows))
 *     and k.row_id = t.ld_keeper_id::text
 *
 * The `any(array(…))` makes the archive's primary key (run_id, row_id) find
 * this batch's keepers; joined on row_id alone, the planner (estimating the
 * unanalysed tables) hashed every keeper the run had archived so far, once a
 * batch: quadratic in the batches (bench/README.md, B22).
 */
export function recordMergedValuesStatements({ schema, runId }: BatchArchive, table: LeadTable, scope: BatchScope = WHOLE_BATCH): RawBuilder<unknown>[] {
  // The keepers are read into a temp table first: Citus updates a coordinator-local table (the archive) only from local rows.
  return [
    sql`create temporary table ld_merged_rows on commit drop as
select g.ld_keeper_id, to_jsonb(l) as row_data
from ${TEMP.merge} as g
join ${tableRef(table)} as l on ${columnRef(table.idColumn, 'l')} = g.ld_keeper_id${scope.leads('l')}`,
    sql`update ${archiveRef(schema, 'lead_dedupe_keepers')} as k
set merged_data = (select jsonb_object_agg(e.key, e.value) from jsonb_each(t.row_data) as e where e.key = any(k.merged_columns))
from pg_temp.ld_merged_rows as t
where k.run_id = ${runId}::int8 and k.row_id = any(array(select ld_keeper_id::text from pg_temp.ld_merged_rows))
  and k.row_id = t.ld_keeper_id::text`,
  ];
}

/** Fills the keepers' empty columns from the donors; key columns, id and created time are never in `columns`. */
export function mergeKeepersStatement(table: LeadTable, columns: MergeColumn[], scope: BatchScope = WHOLE_BATCH): RawBuilder<unknown> {
  const assignments = columns.map(
    (column, index) => sql`${sql.id(column.name)} = case when ${fills(column, index)} then g.${mergedAlias(index)} else ${columnRef(column.name, 't')} end`,
  );
  return sql`update ${tableRef(table)} as t
set ${sql.join(assignments)}
from ${sessionRows(TEMP.merge)} as g
where ${columnRef(table.idColumn, 't')} = g.ld_keeper_id and ${anyFill(columns)}${scope.leads('t')}`;
}

/** The dry run's "keepers to merge into". */
export function keepersToMergeQuery(table: LeadTable, columns: MergeColumn[], merge: RawBuilder<unknown> = TEMP.merge): RawBuilder<{ n: string | number }> {
  return sql`select count(*) as n
from ${tableRef(table)} as t
join ${merge} as g on ${columnRef(table.idColumn, 't')} = g.ld_keeper_id
where ${anyFill(columns)}`;
}

/**
 * `clean --plan-out`: which row fills which column of each keeper, as a JSON
 * object column → donor id (text), for the columns the merge will fill (the
 * keeper's is empty, a donor has a value); the donor is the first non-empty
 * row in the column's rule order, as in mergeValuesQuery.
 *
 *   select m.keeper_id as ld_keeper_id,
 *          jsonb_strip_nulls(jsonb_build_object('email', case when bool_and(("t"."email" is null or btrim("t"."email") = ''))
 *            then (array_agg("d"."id"::text order by …) filter (where not (…)))[1] end)) as sources
 *   from ld_donors as m join "public"."leads" as d on d."id" = m.row_id join "public"."leads" as t on t."id" = m.keeper_id
 *   group by m.keeper_id
 */
export function mergeSourcesQuery(table: LeadTable, columns: MergeColumn[], donors: RawBuilder<unknown>): RawBuilder<unknown> {
  const id = columnRef(table.idColumn, 'd');
  const sources = columns.map(
    (column) =>
      sql`${column.name}::text, case when bool_and(${isEmpty(column, 't')})
        then (array_agg(${id}::text order by ${donorOrder(table, column)}) filter (where not ${isEmpty(column, 'd')}))[1] end`,
  );
  // a function takes at most 100 arguments: one jsonb_build_object per 40 columns, joined with ||
  const objects: RawBuilder<unknown>[] = [];
  for (let start = 0; start < sources.length; start += 40) objects.push(sql`jsonb_build_object(${sql.join(sources.slice(start, start + 40))})`);
  return sql`select m.keeper_id as ld_keeper_id, jsonb_strip_nulls(${sql.join(objects, sql` || `)}) as sources
from ${donors} as m
join ${tableRef(table)} as d on ${id} = m.row_id
join ${tableRef(table)} as t on ${columnRef(table.idColumn, 't')} = m.keeper_id
group by m.keeper_id`;
}
