import { describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { notesReference as notes } from '../support/clean-fixtures.js';
import type { ChildReference } from '../../src/clean/types.js';
import { childRowsToMoveQuery, moveToKeeperByCopyStatements, repointStatement } from '../../src/clean/sql/child-rows-sql.js';
import { keeperOrder, lockBatchStatement } from '../../src/clean/sql/lock-and-rank-sql.js';
import { moveArchivedStatement } from '../../src/clean/sql/archive-batch-sql.js';
import { cleanDryRunQuery } from '../../src/clean/sql/preview-sql.js';
import { donorsStatement, mergeValuesStatement } from '../../src/clean/sql/merge-sql.js';
import { archivedMovesQuery, moveBackStatement, reinsertRemovedStatement } from '../../src/clean/restore/restore-sql.js';
import { archiveMovedStatement } from '../../src/clean/sql/archive-batch-sql.js';
import { keeperConflictsCountedQuery, keepersToRestoreQuery } from '../../src/clean/restore/restore-count-sql.js';
import { resolveCleanSettings, type CleanFlagValues } from '../../src/cli/clean-flags.js';
import { compileSql, fakeKey, fakeTable } from '../support/compile.js';

const table = fakeTable(['id', 'device_id', 'phone', 'email', 'created_at']);
const key = fakeKey(table, ['device_id', 'phone']);

describe('clean planners', () => {
  // The statements of --execute are asserted whole by the golden files (clean-golden.test.ts); these are the dry run's forms and the rules.
  it("the dry run's read of every staged row: no lock, no chunk keeper, no filled count unless most-complete", () => {
    const dryRun = compileSql(lockBatchStatement(key, { batch: null, lock: false, keep: 'oldest', from: 'stage query' })).sql;
    expect(dryRun).toContain('"l"."created_at" as created, null::int8 as filled');
    expect(dryRun).toContain('s.batch_no, s.chunked, false as forced, null::text as chunk_state');
    expect(dryRun).toContain(`from "public"."leads" as l
join "pg_temp"."ld_stage" as s on s.row_id = "l"."id"
where "l"."device_id" is not null`);
    expect(dryRun).not.toContain('ld_chunk_keepers');
    expect(dryRun.endsWith('order by "l"."id"')).toBe(true);
  });

  it('the dry run merges from every loser: no chunk keepers', () => {
    expect(compileSql(donorsStatement(key, null)).sql).toBe(`create temporary table ld_donors on commit drop as
select keeper_id, group_id, row_id from "pg_temp"."ld_members" where rank_in_group > 1 and chunk_state is null`);
  });

  it('orders each keep policy deterministically, ending on the id', () => {
    expect(compileSql(keeperOrder('oldest')).sql).toBe('created asc nulls last, row_id asc');
    expect(compileSql(keeperOrder('newest')).sql).toBe('created desc nulls last, row_id desc');
    expect(compileSql(keeperOrder('most-complete')).sql).toBe('filled desc, created asc nulls last, row_id asc');
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

  it('off Citus, re-points a child and archives each move in one statement: old value the removed id, new value and key as updated', () => {
    const archive = { schema: 'lead_dedupe', runId: 7, batch: 2 };
    const { sql: text, parameters } = compileSql(moveArchivedStatement(archive, notes, 'id'));
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
        archive,
        { ...notes, shared: [{ child: 'device_id', parent: 'device_id' }], copied: [{ child: 'device_id', parent: 'device_id' }] },
        'id',
      ),
    ).toThrow(/moves more than one column/);
  });
});

describe('merge planner', () => {
  const email = { name: 'email', isText: true, rule: 'newest' } as const;

  it('longest orders donors by text length, then newest; oldest by created time', () => {
    const longest = compileSql(mergeValuesStatement(table, [{ ...email, rule: 'longest' }])).sql;
    expect(longest).toContain('array_agg("d"."email" order by length("d"."email"::text) desc, "d"."created_at" desc nulls last, "d"."id" desc)');
    const oldest = compileSql(mergeValuesStatement(table, [{ name: 'device_note', isText: false, rule: 'oldest' }])).sql;
    expect(oldest).toContain('order by "d"."created_at" asc nulls last, "d"."id" asc) filter (where not ("d"."device_note" is null))');
  });
});

describe('restore planner', () => {
  it('re-inserts archived rows with their ids through jsonb_populate_record', () => {
    expect(compileSql(reinsertRemovedStatement({ schema: 'lead_dedupe', runId: 7 }, table, { columns: ['id', 'device_id'], hasIdentity: true }))).toEqual({
      sql: `insert into "public"."leads" ("id", "device_id") overriding system value
select "p"."id", "p"."device_id"
from "lead_dedupe"."lead_dedupe_removed" as r
cross join lateral jsonb_populate_record(null::"public"."leads", r.row_data) as p
where r.run_id = $1
order by p."id"`,
      parameters: [7],
    });
    expect(compileSql(reinsertRemovedStatement({ schema: 'lead_dedupe', runId: 7 }, table, { columns: ['id'], hasIdentity: false })).sql).not.toContain(
      'overriding',
    );
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
    expect(compileSql(archiveMovedStatement({ schema: 'lead_dedupe', runId: 7, batch: 0 }, { ...activities, copied: shared }, 'id')).sql).toContain(
      `jsonb_build_array(m."ld_keeper_device_id", "c"."id"), v.old_value, v.new_value
from "public"."activities" as c
join "pg_temp"."ld_members_keepers" as m on "c"."lead_id" = m.row_id and m.rank_in_group > 1 and "c"."device_id" is not null
cross join lateral unnest(array[$7::text, $8::text], array[to_jsonb("c"."lead_id"), to_jsonb("c"."device_id")], array[coalesce(to_jsonb(m.keeper_id), 'null'::jsonb), coalesce(to_jsonb(m."ld_keeper_device_id"), 'null'::jsonb)]) as v(column_name, old_value, new_value)`,
    );
    // on Citus, a child distributed by device_id: rows that change shard are copied and deleted, the others updated in place
    const [across, inPlace] = moveToKeeperByCopyStatements({ ...activities, copied: shared, distributionColumn: 'device_id' }, 'id').map(
      (s) => compileSql(s).sql,
    );
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
                and exists (select 1 from unnest(k.merged_columns) as mc(name) where not (k.row_id, mc.name) in (select x.keeper_id, x.column_name from "ld_restore_conflicts" as x)))`,
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
    const sql = compileSql(
      reinsertRemovedStatement({ schema: 'arch"ive', runId: 1 }, hostile, { columns: ['id', 'x"; drop table y; --'], hasIdentity: false }),
    ).sql;
    expect(sql).toContain('insert into "we""ird"."le""ads" ("id", "x""; drop table y; --")');
    expect(sql).toContain('from "arch""ive"."lead_dedupe_removed" as r');
  });
});

describe('clean settings', () => {
  it("reads clean's flags (config values arrive as flags) and the config's mergeRules map, flags winning", () => {
    const flags: CleanFlagValues = {
      mergeRule: ['email=keeper'],
      batchSize: '25',
      batchRows: '4000',
      keep: 'newest',
      pause: '1.5s',
      lockTimeout: '2s',
      archiveSchema: 'audit',
    };
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
    // commander and the config file check --mode's choices; a JavaScript caller of the library is checked here
    const fromJavaScript: Parameters<typeof resolveCleanSettings>[0] = JSON.parse('{ "mergeRule": [], "mode": "purge" }');
    expect(() => resolveCleanSettings(fromJavaScript)).toThrow('--mode takes merge|delete; got "purge"');
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
