import { describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import type { ChildReference } from '../../src/clean/types.js';
import { childConflictStatements } from '../../src/clean/sql/group-skips-sql.js';
import { childRowsToMoveQuery, moveByCopyStatements, repointStatement } from '../../src/clean/sql/child-rows-sql.js';
import { chooseChunkKeepersStatement, keeperOrder, lockBatchStatement } from '../../src/clean/sql/lock-and-rank-sql.js';
import { deleteVictimsStatement } from '../../src/clean/sql/batch-results-sql.js';
import { stageStatements } from '../../src/clean/sql/stage-sql.js';
import { archiveRemovedStatement, deleteArchivedStatement, moveArchivedStatement } from '../../src/clean/sql/archive-sql.js';
import { cleanDryRunQuery } from '../../src/clean/sql/preview-sql.js';
import { donorsStatement, mergeKeepersStatement, mergeValuesStatement } from '../../src/clean/sql/merge-sql.js';
import { archivedMovesQuery, moveBackStatement, reinsertRemovedStatement } from '../../src/clean/restore/restore-sql.js';
import { archiveMovedStatement } from '../../src/clean/sql/archive-sql.js';
import { keeperConflictsCountedQuery, keepersToRestoreQuery } from '../../src/clean/restore/restore-count-sql.js';
import { resolveCleanSettings } from '../../src/cli/clean-flags.js';
import { compileSql, fakeKey, fakeTable } from '../support/compile.js';

const table = fakeTable(['id', 'device_id', 'phone', 'email', 'created_at']);
const key = fakeKey(table, ['device_id', 'phone']);
const notes: ChildReference = {
  constraint: 'notes_fk',
  schema: 'public',
  table: 'notes',
  column: 'lead_id',
  parent: { schema: 'public', table: 'leads' },
  shared: [],
  copied: [],
  distributionColumn: null,
  primaryKey: ['id'],
  onDelete: 'restrict',
  self: false,
  notNull: true,
  indexed: true,
  uniqueIndexes: [{ name: 'notes_uq', columns: ['lead_id', 'kind'], nullsNotDistinct: false }],
};

describe('clean planners', () => {
  it('stages only the duplicate groups, numbered in key order and cut into batches of groups and rows; a group over the row cap in chunks', () => {
    const [drop, parallel, create, reset, index, rowIndex, analyze, keepers] = stageStatements(key, 1000, 10_000, 50).map(
      (statement) => compileSql(statement).sql,
    );
    expect(drop).toBe('drop table if exists "pg_temp"."ld_stage", "pg_temp"."ld_chunk_keepers", "pg_temp"."ld_group_rows"');
    // the staging alone may use parallel workers; the session's setting is back before the first batch
    expect(parallel).toBe(`select set_config('parallel_tuple_cost', '0.01', false)`);
    expect(reset).toBe('reset parallel_tuple_cost');
    expect(create).toBe(`create temporary table ld_stage as
select row_id, group_no, group_id, chunked, (dense_rank() over (order by row_window, group_window, alone, chunk) - 1)::int4 as batch_no
from (select "l"."id" as row_id, b.group_no, b.group_id, b.n > 10000 as chunked, b.row_window, b.group_window, b.alone,
             case when b.n > 10000 then (row_number() over (partition by b.group_no order by "l"."id") - 1) / 9999 else 0 end as chunk
      from (select g.*, md5(jsonb_build_array("g"."ld_k1", "g"."ld_k2")::text) as group_id, case when g.n > 5000 then g.group_no else 0 end as alone,
                   coalesce(sum(case when g.n > 5000 then 0 else g.n end) over (order by g.group_no rows between unbounded preceding and 1 preceding), 0)::int8
                     / (10000 + 1 - max(case when g.n > 5000 then 0 else g.n end) over ()) as row_window,
                   (g.group_no - 1) / 1000 as group_window
            from (select dg.*, row_number() over (order by "ld_k1", "ld_k2") as group_no
                  from (select "device_id" as "ld_k1", "phone" as "ld_k2", count(*) as n
from "public"."leads"
where "device_id" is not null and "phone" is not null
group by 1, 2
having count(*) > 1) as dg
                  order by "ld_k1", "ld_k2"
                  limit 50) as g) as b
      join "public"."leads" as l on "l"."device_id" = "b"."ld_k1" and "l"."phone" = "b"."ld_k2") as x`);
    expect([index, rowIndex, analyze]).toEqual([
      'create index on "pg_temp"."ld_stage" (batch_no)',
      'create index on "pg_temp"."ld_stage" (row_id)',
      'analyze "pg_temp"."ld_stage"',
    ]);
    expect(keepers).toBe(
      'create temporary table ld_chunk_keepers as select row_id as keeper_id, group_no, 0::int4 as first_batch from "pg_temp"."ld_stage" limit 0',
    );
  });

  it('locks a batch in id order with the keeper its large group already has, and re-reads its key, group id, created time and filled columns', () => {
    expect(compileSql(lockBatchStatement(key, 3, true, 'most-complete'))).toEqual({
      sql: `create temporary table ld_locked on commit drop as
select "l"."id" as row_id, jsonb_build_array("l"."device_id", "l"."phone") as key_values, md5(jsonb_build_array("l"."device_id", "l"."phone")::text) as group_id,
       "l"."created_at" as created, (select count(*) from jsonb_each_text(to_jsonb("l")) as e(name, value) where e.value is not null and btrim(e.value) <> '') as filled,
       s.batch_no, s.chunked, coalesce(k.keeper_id = "l"."id", false) as forced,
       case when k.first_batch = 3 then 'first' when k.first_batch < 3 then 'continued' end as chunk_state
from "public"."leads" as l
join "pg_temp"."ld_stage" as s on s.row_id = "l"."id"
left join "pg_temp"."ld_chunk_keepers" as k on k.group_no = s.group_no
where "l"."id" in (select row_id from "pg_temp"."ld_stage" where batch_no = 3
                union all select keeper_id from "pg_temp"."ld_chunk_keepers" where group_no in (select group_no from "pg_temp"."ld_stage" where batch_no = 3))
  and "l"."device_id" is not null and "l"."phone" is not null
order by "l"."id" for update of l`,
      parameters: [],
    });
    const dryRun = compileSql(lockBatchStatement(key, null, false, 'oldest')).sql;
    expect(dryRun).toContain('"l"."created_at" as created, null::int8 as filled');
    expect(dryRun).toContain('s.batch_no, s.chunked, false as forced, null::text as chunk_state');
    expect(dryRun).toContain(`from "public"."leads" as l
join "pg_temp"."ld_stage" as s on s.row_id = "l"."id"
where "l"."device_id" is not null`);
    expect(dryRun).not.toContain('ld_chunk_keepers');
    expect(dryRun.endsWith('order by "l"."id"')).toBe(true);
  });

  it('chooses the keeper of a large group over all its rows, in its first chunk only', () => {
    expect(compileSql(chooseChunkKeepersStatement(key, 2, 'oldest')).sql).toBe(`insert into "pg_temp"."ld_chunk_keepers" (keeper_id, group_no, first_batch)
select distinct on (group_no) row_id, group_no, 2::int4
from (select "l"."id" as row_id, s.group_no, "l"."created_at" as created, null::int8 as filled
      from (select * from "pg_temp"."ld_stage"
            where group_no in (select group_no from "pg_temp"."ld_stage" where batch_no = 2 and chunked)
              and group_no not in (select group_no from "pg_temp"."ld_chunk_keepers")) as s
      join "public"."leads" as l on "l"."id" = s.row_id
      where md5(jsonb_build_array("l"."device_id", "l"."phone")::text) = s.group_id and "l"."device_id" is not null and "l"."phone" is not null) as r
order by group_no, created asc nulls last, row_id asc`);
  });

  it('merges a large group from all its rows in its first chunk, from none in later chunks', () => {
    expect(compileSql(donorsStatement(key, 2)).sql).toBe(`create temporary table ld_donors on commit drop as
select keeper_id, group_id, row_id from "pg_temp"."ld_members" where rank_in_group > 1 and chunk_state is null
union all
select s.keeper_id, s.group_id, s.row_id
from (select k.keeper_id, s.group_id, s.row_id
      from "pg_temp"."ld_chunk_keepers" as k join "pg_temp"."ld_stage" as s on s.group_no = k.group_no
      where k.first_batch = 2 and s.row_id <> k.keeper_id
        and exists (select 1 from "pg_temp"."ld_members" as m where m.row_id = k.keeper_id)) as s
join "public"."leads" as d on "d"."id" = s.row_id
where md5(jsonb_build_array("d"."device_id", "d"."phone")::text) = s.group_id and "d"."device_id" is not null and "d"."phone" is not null`);
    expect(compileSql(donorsStatement(key, null)).sql).toBe(`create temporary table ld_donors on commit drop as
select keeper_id, group_id, row_id from "pg_temp"."ld_members" where rank_in_group > 1 and chunk_state is null`);
  });

  it('orders each keep policy deterministically, ending on the id', () => {
    expect(compileSql(keeperOrder('oldest')).sql).toBe('created asc nulls last, row_id asc');
    expect(compileSql(keeperOrder('newest')).sql).toBe('created desc nulls last, row_id desc');
    expect(compileSql(keeperOrder('most-complete')).sql).toBe('filled desc, created asc nulls last, row_id asc');
  });

  it('deletes and re-points on the materialised ids only', () => {
    expect(compileSql(deleteVictimsStatement(key)).sql).toBe(`delete from "public"."leads" as l
using (select * from "pg_temp"."ld_members") as m
where "l"."id" = m.row_id and m.rank_in_group > 1`);
    expect(compileSql(repointStatement(notes, 'id')).sql).toBe(`update "public"."notes" as c
set "lead_id" = m.keeper_id
from (select * from "pg_temp"."ld_members") as m
where "c"."lead_id" = m.row_id and m.rank_in_group > 1`);
  });

  it('re-points a self-reference without moving removed rows or making a keeper its own parent, and counts the same rows in the dry run', () => {
    const parent: ChildReference = {
      ...notes,
      table: 'leads',
      column: 'parent_id',
      constraint: 'leads_parent_fk',
      self: true,
      notNull: false,
      uniqueIndexes: [],
    };
    expect(compileSql(repointStatement(parent, 'id')).sql).toBe(`update "public"."leads" as c
set "parent_id" = case when "c"."id" = m.keeper_id then null else m.keeper_id end
from (select * from "pg_temp"."ld_members") as m
where "c"."parent_id" = m.row_id and m.rank_in_group > 1
  and not exists (select 1 from "pg_temp"."ld_members" as v where v.row_id = "c"."id" and v.rank_in_group > 1)`);
    expect(compileSql(childRowsToMoveQuery(parent, 'id')).sql).toBe(`select count(*) as n
from "public"."leads" as c
join "pg_temp"."ld_members" as m on "c"."parent_id" = m.row_id and m.rank_in_group > 1
  and not exists (select 1 from "pg_temp"."ld_members" as v where v.row_id = "c"."id" and v.rank_in_group > 1 and v.batch_no <= m.batch_no)`);
    // the dry run's CTE of every batch's members: each carries its staged batch_no
    expect(compileSql(childRowsToMoveQuery(parent, 'id', sql.id('ld_members'))).sql).toBe(`select count(*) as n
from "public"."leads" as c
join "ld_members" as m on "c"."parent_id" = m.row_id and m.rank_in_group > 1
  and not exists (select 1 from "ld_members" as v where v.row_id = "c"."id" and v.rank_in_group > 1 and v.batch_no <= m.batch_no)`);
  });

  it('finds groups whose re-point would break a child unique index, NULLs distinct', () => {
    expect(childConflictStatements([notes]).map(compileSql)).toEqual([
      {
        sql: `insert into "pg_temp"."ld_skipped" (group_id, reason)
select distinct x.group_id, $1::text
from (select m.group_id
      from "public"."notes" as c
      join "pg_temp"."ld_members" as m on "c"."lead_id" = m.row_id
      where true and "c"."kind" is not null
      group by m.group_id, "c"."kind"
      having count(*) > 1) as x
where not exists (select 1 from "pg_temp"."ld_skipped" as s where s.group_id = x.group_id)`,
        parameters: ['unique index notes_uq on public.notes (lead_id, kind)'],
      },
    ]);
  });

  it('archives each removed row whole, as jsonb, with run, batch, group and keeper', () => {
    expect(compileSql(archiveRemovedStatement('lead_dedupe', table, 7, 2))).toEqual({
      sql: `insert into "lead_dedupe"."lead_dedupe_removed" (run_id, batch_no, group_id, keeper_id, row_id, row_data)
select $1::int8, $2::int4, m.group_id, m.keeper_id::text, m.row_id::text, to_jsonb(l)
from "public"."leads" as l
join "pg_temp"."ld_members" as m on "l"."id" = m.row_id
where m.rank_in_group > 1`,
      parameters: [7, 2],
    });
  });

  it('off Citus, deletes the removed rows and archives them in one statement, each as the DELETE found it', () => {
    expect(compileSql(deleteArchivedStatement('lead_dedupe', table, 7, 2))).toEqual({
      sql: `with removed as (
  delete from "public"."leads" as l
  using "pg_temp"."ld_members" as m
  where "l"."id" = m.row_id and m.rank_in_group > 1
  returning m.group_id, m.keeper_id, m.row_id, to_jsonb(l) as row_data)
insert into "lead_dedupe"."lead_dedupe_removed" (run_id, batch_no, group_id, keeper_id, row_id, row_data)
select $1::int8, $2::int4, group_id, keeper_id::text, row_id::text, row_data
from removed`,
      parameters: [7, 2],
    });
  });

  it('off Citus, re-points a child and archives each move in one statement: old value the removed id, new value and key as updated', () => {
    const { sql: text, parameters } = compileSql(moveArchivedStatement('lead_dedupe', notes, 'id', 7, 2));
    expect(text).toBe(`with moved as (
  update "public"."notes" as c
  set "lead_id" = m.keeper_id
  from "pg_temp"."ld_members" as m
  where "c"."lead_id" = m.row_id and m.rank_in_group > 1
  returning "c"."id" as "ld_pk_0", m.row_id as ld_old_value, "c"."lead_id" as ld_new_value)
insert into "lead_dedupe"."lead_dedupe_moved"
  (run_id, batch_no, child_schema, child_table, constraint_name, column_name, pk_columns, child_pk, old_value, new_value)
select $1::int8, $2::int4, $3::text, $4::text, $5::text,
       $6::text, $7::text[], jsonb_build_array("moved"."ld_pk_0"), to_jsonb(moved.ld_old_value),
       coalesce(to_jsonb(moved.ld_new_value), 'null'::jsonb)
from moved`);
    expect(parameters).toEqual([7, 2, 'public', 'notes', notes.constraint, 'lead_id', ['id']]);
    // a move that changes two columns (a composite key the keeper does not share) is archived first, then made
    expect(() =>
      moveArchivedStatement(
        'lead_dedupe',
        { ...notes, shared: [{ child: 'device_id', parent: 'device_id' }], copied: [{ child: 'device_id', parent: 'device_id' }] },
        'id',
        7,
        2,
      ),
    ).toThrow(/moves more than one column/);
  });
});

describe('merge planner', () => {
  const email = { name: 'email', isText: true, rule: 'newest' } as const;

  it('picks the newest non-blank donor per keeper in one aggregate pass', () => {
    expect(compileSql(mergeValuesStatement(table, [email])).sql).toBe(`create temporary table ld_merge on commit drop as
select m.keeper_id as ld_keeper_id, m.group_id, (array_agg("d"."email" order by "d"."created_at" desc nulls last, "d"."id" desc) filter (where not ("d"."email" is null or btrim("d"."email") = '')))[1] as "ld_m1"
from "pg_temp"."ld_donors" as m
join "public"."leads" as d on "d"."id" = m.row_id
group by m.keeper_id, m.group_id`);
  });

  it('longest orders donors by text length, then newest; oldest by created time', () => {
    const longest = compileSql(mergeValuesStatement(table, [{ ...email, rule: 'longest' }])).sql;
    expect(longest).toContain('array_agg("d"."email" order by length("d"."email"::text) desc, "d"."created_at" desc nulls last, "d"."id" desc)');
    const oldest = compileSql(mergeValuesStatement(table, [{ name: 'device_note', isText: false, rule: 'oldest' }])).sql;
    expect(oldest).toContain('order by "d"."created_at" asc nulls last, "d"."id" asc) filter (where not ("d"."device_note" is null))');
  });

  it('fills only empty keeper columns, and only touches keepers that change', () => {
    expect(compileSql(mergeKeepersStatement(table, [email])).sql).toBe(`update "public"."leads" as t
set "email" = case when (("t"."email" is null or btrim("t"."email") = '') and g."ld_m1" is not null) then g."ld_m1" else "t"."email" end
from (select * from "pg_temp"."ld_merge") as g
where "t"."id" = g.ld_keeper_id and ((("t"."email" is null or btrim("t"."email") = '') and g."ld_m1" is not null))`);
  });
});

describe('restore planner', () => {
  it('re-inserts archived rows with their ids through jsonb_populate_record', () => {
    expect(compileSql(reinsertRemovedStatement('lead_dedupe', table, ['id', 'device_id'], true, 7))).toEqual({
      sql: `insert into "public"."leads" ("id", "device_id") overriding system value
select "p"."id", "p"."device_id"
from "lead_dedupe"."lead_dedupe_removed" as r
cross join lateral jsonb_populate_record(null::"public"."leads", r.row_data) as p
where r.run_id = $1
order by p."id"`,
      parameters: [7],
    });
    expect(compileSql(reinsertRemovedStatement('lead_dedupe', table, ['id'], false, 7)).sql).not.toContain('overriding');
  });

  it('moves a child row back only while it still holds every value the move wrote, comparing typed columns', () => {
    const target = {
      child_schema: 'public',
      child_table: 'notes',
      constraint_name: 'notes_fk',
      column_name: 'lead_id',
      columns: ['lead_id'],
      pk_columns: ['id'],
    };
    expect(compileSql(moveBackStatement(target)).sql).toBe(`update "public"."notes" as c
set "lead_id" = m."old_lead_id"
from (select * from "pg_temp"."ld_move_back") as m
where "c"."id" = m."pk_id" and "c"."lead_id" is not distinct from m."new_lead_id"`);
    expect(compileSql(archivedMovesQuery('lead_dedupe', target, 7))).toEqual({
      sql: `select pk."id" as "pk_id", o."lead_id" as "old_lead_id", n."lead_id" as "new_lead_id"
from (select child_pk, jsonb_object_agg(column_name, old_value) as old_values, jsonb_object_agg(column_name, new_value) as new_values
      from "lead_dedupe"."lead_dedupe_moved"
      where run_id = $1 and child_schema = $2 and child_table = $3
        and constraint_name = $4 and pk_columns = $5::text[]
      group by child_pk) as m
cross join lateral jsonb_populate_record(null::"public"."notes", jsonb_build_object($6::text, m.child_pk->0)) as pk
cross join lateral jsonb_populate_record(null::"public"."notes", m.old_values) as o
cross join lateral jsonb_populate_record(null::"public"."notes", m.new_values) as n`,
      parameters: [7, 'public', 'notes', 'notes_fk', ['id'], 'id'],
    });
  });

  it("re-points a composite key: only the id column when the duplicate key holds the other columns, else the keeper's values too", () => {
    const shared = [{ child: 'device_id', parent: 'device_id' }];
    const activities: ChildReference = { ...notes, table: 'activities', shared, copied: [], primaryKey: ['device_id', 'id'], uniqueIndexes: [] };
    expect(compileSql(repointStatement(activities, 'id')).sql).toBe(`update "public"."activities" as c
set "lead_id" = m.keeper_id
from (select * from "pg_temp"."ld_members") as m
where "c"."lead_id" = m.row_id and m.rank_in_group > 1 and "c"."device_id" is not null`);
    expect(compileSql(repointStatement({ ...activities, copied: shared }, 'id')).sql).toBe(`update "public"."activities" as c
set "lead_id" = m.keeper_id, "device_id" = m."ld_keeper_device_id"
from (select * from "pg_temp"."ld_members_keepers") as m
where "c"."lead_id" = m.row_id and m.rank_in_group > 1 and "c"."device_id" is not null`);
    // one archive row per changed column, with the primary key the row has after the move
    expect(compileSql(archiveMovedStatement('lead_dedupe', { ...activities, copied: shared }, 'id', 7, 0)).sql).toContain(
      `jsonb_build_array(m."ld_keeper_device_id", "c"."id"), v.old_value, v.new_value
from "public"."activities" as c
join "pg_temp"."ld_members_keepers" as m on "c"."lead_id" = m.row_id and m.rank_in_group > 1 and "c"."device_id" is not null
cross join lateral unnest(array[$7::text, $8::text], array[to_jsonb("c"."lead_id"), to_jsonb("c"."device_id")], array[coalesce(to_jsonb(m.keeper_id), 'null'::jsonb), coalesce(to_jsonb(m."ld_keeper_device_id"), 'null'::jsonb)]) as v(column_name, old_value, new_value)`,
    );
    // on Citus, a child distributed by device_id: rows that change shard are copied and deleted, the others updated in place
    const [across, inPlace] = moveByCopyStatements({ ...activities, copied: shared, distributionColumn: 'device_id' }, 'id').map((s) => compileSql(s).sql);
    expect(across).toBe(`with moved as (
  delete from "public"."activities" as c
  using "pg_temp"."ld_members_keepers" as m
  where "c"."lead_id" = m.row_id and m.rank_in_group > 1 and "c"."device_id" is not null and "c"."device_id" is distinct from m."ld_keeper_device_id"
  returning c.*, m.keeper_id as "ld_new_0", m."ld_keeper_device_id" as "ld_new_1")
insert into "public"."activities" overriding system value
select (jsonb_populate_record(null::"public"."activities", to_jsonb(moved) || jsonb_build_object($1::text, moved."ld_new_0", $2::text, moved."ld_new_1"))).*
from moved`);
    expect(inPlace).toBe(`update "public"."activities" as c
set "lead_id" = m.keeper_id
from "pg_temp"."ld_members_keepers" as m
where "c"."lead_id" = m.row_id and m.rank_in_group > 1 and "c"."device_id" is not null`);
  });

  it('counts on a read-only server the keepers restore would update: only those with a merged column still holding the merged value', () => {
    const restore = { schema: 'lead_dedupe', table, columns: ['email'], runId: 7, hasMergedData: true, force: false };
    expect(compileSql(keepersToRestoreQuery(restore))).toEqual({
      sql: `with "ld_restore_conflicts" as materialized (with t as materialized (
  select l.* from "public"."leads" as l
  where "l"."id" in (select (jsonb_populate_record(null::"public"."leads", a.row_data))."id" from "lead_dedupe"."lead_dedupe_keepers" as a where a.run_id = $1))
select k.row_id as keeper_id, c.column_name, c.current_value, k.merged_data is null as unproven
from "lead_dedupe"."lead_dedupe_keepers" as k
cross join lateral jsonb_populate_record(null::"public"."leads", k.row_data) as p
join t on "t"."id" = "p"."id"
cross join lateral jsonb_populate_record(null::"public"."leads", coalesce(k.merged_data, '{}'::jsonb)) as w
cross join lateral (values ($2::text, "t"."email"::text, "w"."email"::text)) as c(column_name, current_value, merged_value)
where k.run_id = $3 and c.column_name = any(k.merged_columns)
  and (k.merged_data is null or not k.merged_data ? c.column_name or c.current_value is distinct from c.merged_value))
select count(*) as n
from "public"."leads" as t
where exists (select 1
              from "lead_dedupe"."lead_dedupe_keepers" as k
              cross join lateral jsonb_populate_record(null::"public"."leads", k.row_data) as p
              where k.run_id = $4 and "t"."id" = "p"."id"
                and exists (select 1 from unnest(k.merged_columns) as mc(name) where not exists (select 1 from "ld_restore_conflicts" as x where x.keeper_id = k.row_id and x.column_name = mc.name)))`,
      parameters: [7, 'email', 7, 7],
    });
    expect(compileSql(keepersToRestoreQuery({ ...restore, force: true })).sql).toContain('where true))');
    expect(compileSql(keeperConflictsCountedQuery({ ...restore, hasMergedData: false })).sql).toContain(
      'select count(*) as total, count(*) filter (where unproven) as unproven from "ld_restore_conflicts"',
    );
    expect(compileSql(keeperConflictsCountedQuery({ ...restore, hasMergedData: false })).sql).toContain('null::jsonb is null as unproven');
  });

  it('quotes hostile identifiers instead of running them', () => {
    const hostile = fakeTable(['id', 'x"; drop table y; --'], 'we"ird', 'le"ads');
    const sql = compileSql(reinsertRemovedStatement('arch"ive', hostile, ['id', 'x"; drop table y; --'], false, 1)).sql;
    expect(sql).toContain('insert into "we""ird"."le""ads" ("id", "x""; drop table y; --")');
    expect(sql).toContain('from "arch""ive"."lead_dedupe_removed" as r');
  });
});

describe('clean settings', () => {
  it("reads clean's flags (config values arrive as flags) and the config's mergeRules map, flags winning", () => {
    const flags = { mergeRule: ['email=keeper'], batchSize: '25', batchRows: '4000', keep: 'newest', pause: '1.5s', lockTimeout: '2s', archiveSchema: 'audit' };
    expect(resolveCleanSettings(flags, { email: 'oldest', name: 'longest' })).toEqual({
      keep: 'newest',
      mode: 'merge',
      mergeRules: { email: 'keeper', name: 'longest' },
      batchSize: 25,
      batchRows: 4000,
      maxGroups: null,
      pauseMs: 1500,
      lockTimeoutMs: 2000,
      statementTimeoutMs: 60_000,
      archiveSchema: 'audit',
      retries: 3,
      sampleGroups: 5,
    });
  });

  it('rejects bad values with one line naming where they came from', () => {
    const fromConfig = (flag: string) => (flag === '--batch-size' ? 'config "commands.clean.batchSize"' : flag);
    expect(() => resolveCleanSettings({ batchSize: 'lots' }, undefined, fromConfig)).toThrow(
      'config "commands.clean.batchSize" takes a whole number from 1 to 2147483647; got "lots"',
    );
    expect(() => resolveCleanSettings({}, { email: 'best' })).toThrow('config "commands.clean.mergeRules.email" takes <column>=newest|oldest|keeper|longest');
    expect(() => resolveCleanSettings({ mergeRule: [], mode: 'purge' })).toThrow('--mode takes merge|delete; got "purge"');
    expect(() => resolveCleanSettings({ mergeRule: [], batchRows: '1' })).toThrow('--batch-rows takes a whole number from 2 to 2147483647; got "1"');
    expect(resolveCleanSettings({ mergeRule: [] }).batchRows).toBe(10_000);
    expect(() => resolveCleanSettings({ mergeRule: ['email=first'] })).toThrow('--merge-rule takes <column>=newest|oldest|keeper|longest');
  });
});

describe('the dry run as one read-only SELECT', () => {
  const email = { name: 'email', isText: true, rule: 'newest' as const };
  const text = compileSql(
    cleanDryRunQuery({ key, keep: 'oldest', batchSize: 10, batchRows: 10_000, maxGroups: null, references: [notes], mergeColumns: [email], sampleGroups: 5 }),
  ).sql;

  it('chains the --execute statements as CTEs: no temp table, no DDL, no row lock (a hot standby runs it)', () => {
    expect(
      text.startsWith(
        'with "ld_stage" as materialized (select row_id, group_no, group_id, chunked, (dense_rank() over (order by row_window, group_window, alone, chunk) - 1)::int4 as batch_no',
      ),
    ).toBe(true);
    expect(text).toContain('/ (10000 + 1 - max(case when g.n > 5000 then 0 else g.n end) over ()) as row_window');
    expect(text).toContain('(g.group_no - 1) / 10 as group_window');
    expect(text).not.toMatch(/\b(create|analyze|insert|update|delete|lock)\b|pg_temp/i);
    expect(text).toContain(`"ld_members" as materialized (select * from "ld_ranked" where group_id not in (select group_id from "ld_skipped"))`);
  });

  it('skips a group for the first child unique index it would break, as the batch does', () => {
    expect(
      text,
    ).toContain(`"ld_skipped" as materialized (select distinct on (group_id) group_id, reason from (select 0 as ld_order, s.group_id, s.reason from (select distinct x.group_id, $1::text
from (select m.group_id
      from "public"."notes" as c
      join "ld_ranked" as m on "c"."lead_id" = m.row_id`);
  });

  it('merges from the losers of every group ranked whole (no chunk keepers in the dry run)', () => {
    expect(text).toContain(`"ld_donors" as materialized (select keeper_id, group_id, row_id from "ld_members" where rank_in_group > 1 and chunk_state is null),
"ld_merge" as materialized (select m.keeper_id as ld_keeper_id, m.group_id,`);
    expect(text).toContain('from "ld_donors" as m\njoin "public"."leads" as d');
  });

  it('skips for a NOT NULL self-reference after the child unique indexes, and counts self-reference moves batch-aware', () => {
    const parent: ChildReference = {
      ...notes,
      table: 'leads',
      column: 'parent_id',
      constraint: 'leads_parent_fk',
      self: true,
      notNull: true,
      uniqueIndexes: [],
    };
    const withParent = compileSql(
      cleanDryRunQuery({ key, keep: 'oldest', batchSize: 10, batchRows: 100, maxGroups: null, references: [notes, parent], mergeColumns: [], sampleGroups: 5 }),
    ).sql;
    expect(withParent).toContain(`union all select 1 as ld_order, s.group_id, s.reason from (select distinct x.group_id, $2::text
from (select m.group_id
      from "public"."leads" as c
      join "ld_ranked" as m on "c"."parent_id" = m.row_id
      where m.rank_in_group > 1 and "c"."id" = m.keeper_id) as x) as s(group_id, reason)`);
    expect(withParent).toContain(
      'and not exists (select 1 from "ld_members" as v where v.row_id = "c"."id" and v.rank_in_group > 1 and v.batch_no <= m.batch_no)',
    );
    expect(withParent).not.toMatch(/\b(create|analyze|insert|update|delete|lock)\b|pg_temp/i);
  });
});
