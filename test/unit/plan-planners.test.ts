import { describe, expect, it } from 'vitest';
import { parseBodyLine, parseHeaderLine } from '../../src/clean/plan-file/plan-lines.js';
import { parseDuration } from '../../src/cli/parse/duration.js';
import { resolvePlanFlags } from '../../src/cli/clean-flags.js';
import { lockPlannedRowsStatement, plannedMembersStatements } from '../../src/clean/plan-file/plan-batch-sql.js';
import { fingerprintSettingsStatement, rowFingerprint } from '../../src/clean/plan-file/plan-fingerprint-sql.js';
import { foreignRowQuery, insertPlanChunkStatement } from '../../src/clean/plan-file/plan-load-sql.js';
import { markDoneGroupsStatement, newRowsQuery, planStageStatements } from '../../src/clean/plan-file/plan-stage-sql.js';
import { mergeSourcesQuery } from '../../src/clean/sql/merge-sql.js';
import { planExportQuery } from '../../src/clean/plan-file/plan-export-sql.js';
import { cleanDryRunQuery, type DryRunSettings } from '../../src/clean/sql/preview-sql.js';
import { notesReference } from '../support/clean-fixtures.js';
import { sql } from 'kysely';
import { compileSql, fakeKey, fakeTable } from '../support/compile.js';

const table = fakeTable(['id', 'device_id', 'phone', 'email', 'created_at']);
const key = fakeKey(table, ['device_id', 'phone']);

describe('plan planners', () => {
  it('fingerprints a whole row in SQL, under pinned text settings', () => {
    expect(compileSql(rowFingerprint('l')).sql).toBe('md5("l"::text)');
    expect(compileSql(fingerprintSettingsStatement()).sql).toContain("set_config('TimeZone', 'UTC', true)");
  });

  it('loads a chunk as one JSON parameter through the temp table row type', () => {
    expect(compileSql(insertPlanChunkStatement('rows', '[]'))).toEqual({
      sql: 'insert into "pg_temp"."ld_plan" select * from jsonb_populate_recordset(null::"pg_temp"."ld_plan", $1::jsonb)',
      parameters: ['[]'],
    });
  });

  it('locks the batch of a plan with each row fingerprint, then sets aside stale groups before ranking the planned keeper first', () => {
    expect(compileSql(lockPlannedRowsStatement(key, 3)).sql).toBe(`create temporary table ld_locked on commit drop as
select "l"."id" as row_id, md5("l"::text) as fingerprint,
       case when "l"."device_id" is not null and "l"."phone" is not null then md5(jsonb_build_array("l"."device_id", "l"."phone")::text) end as key_group
from "public"."leads" as l
where "l"."id" in (select row_id from "pg_temp"."ld_stage" where batch_no = 3)
order by "l"."id" for update of l`);
    const [skipped, stale, members] = plannedMembersStatements(3).map((statement) => compileSql(statement));
    expect(skipped!.sql).toBe('create temporary table ld_skipped (group_id text not null, reason text not null) on commit drop');
    // a row is stale when gone, changed, or no longer carrying its group's key unless a reviewer accepted the group (checked under the lock: its fingerprint may match again)
    expect(stale!.sql).toContain(
      'where s.batch_no = 3 and (k.row_id is null or k.fingerprint <> s.fingerprint or (k.key_group is distinct from s.group_id and not s.reviewed))',
    );
    // every batch reads its planned rows from the stage alone (through its batch_no index), not from the plan's tables
    expect(stale!.sql).not.toContain('ld_plan');
    expect(members!.sql).not.toContain('ld_plan');
    expect(stale!.parameters).toEqual([
      'stale (a row is gone since the plan)',
      'stale (a row changed since the plan)',
      'stale (a row changed since the plan)',
      " no longer carries the group's key",
    ]);
    expect(members!.sql).toContain('row_number() over (partition by s.group_id order by s.keeper desc, s.row_id) as rank_in_group');
    expect(members!.sql).toContain('s.group_id not in (select group_id from "pg_temp"."ld_skipped")');
  });

  it('stages the plan like clean (same batch windows) without chunking a group', () => {
    const stage = compileSql(planStageStatements(1000, 10_000)[1]!).sql;
    expect(stage).toContain('case when g.n > 5000 then g.group_no else 0 end as alone');
    expect(stage).toContain('false as chunked');
    expect(stage).toContain('p.keeper, p.fingerprint, b.keeper_id, b.key_values');
    expect(stage).toContain('where pg.group_id not in (select group_id from "pg_temp"."ld_plan_done")');
    const done = compileSql(markDoneGroupsStatement('lead_dedupe', 'sha256:ab', { schema: 'public', name: 'leads' }));
    expect(done.sql).toContain(`where u.options -> 'plan' ->> 'id' = $1 and u.status not in ('restored', 'restored with conflicts')`);
    expect(done.parameters).toEqual(['sha256:ab', 'public', 'leads']);
  });

  it('finds new rows and foreign rows by the key model', () => {
    const newRows = compileSql(newRowsQuery(key)).sql;
    expect(newRows).toContain('select jsonb_build_array("l"."device_id", "l"."phone") as key_values');
    expect(newRows).toContain('where x.key_values in (select key_values from "pg_temp"."ld_plan_groups")');
    expect(newRows).toContain('select md5(x.key_values::text) as group_id');
    expect(newRows).toContain('where group_id in (select group_id from "pg_temp"."ld_plan_groups")');
    const foreign = compileSql(foreignRowQuery(key)).sql;
    expect(foreign).toContain('"l"."device_id" is not null and "l"."phone" is not null as groupable');
    expect(foreign).toContain('where "l"."id" = p.row_id\n              offset 0) as k on true');
    expect(foreign).toContain(
      'where not g.reviewed and case when k.groupable and k.key_group = g.group_id then false else md5(k.whole_row::text) = p.fingerprint end',
    );
  });

  /** A dry run of the key's groups, oldest kept, at the default batch sizes. */
  const dryRun: Omit<DryRunSettings, 'sampleGroups'> = {
    key,
    keep: 'oldest',
    batchSize: 1000,
    batchRows: 10_000,
    maxGroups: null,
    references: [],
    mergeColumns: [],
  };

  it("fingerprints each row where the dry run's chain reads it, and reads the table again only for --plan-csv's stored values", () => {
    const plan = compileSql(planExportQuery(dryRun)).sql;
    // the stage reads each row once and carries its fingerprint; ld_locked takes it from there, not from a second read by id
    expect(plan).toContain('\n             md5("l"::text) as "ld_row_fingerprint"\n');
    expect(plan).toContain('s.ld_row_filled as filled, s.ld_row_fingerprint as fingerprint,\n       s.batch_no');
    expect(plan).not.toContain('join "ld_stage" as s on s.row_id');
    expect(plan).toContain('"ld_ranked" as materialized (select row_id, group_id, key_values, batch_no, chunk_state, fingerprint,\n');
    expect(plan).toContain(
      'json_agg(m.row_id::text order by m.rank_in_group) as ids,\n       json_agg(m.fingerprint order by m.rank_in_group) as fingerprints,',
    );
    expect(plan).not.toMatch(/join "[^"]+"\."[^"]+" as l on "l"\."id" = m\.row_id/);
    // one sort of the members, by key then group, serves the aggregate and the lines' order (no final sort by kind)
    expect(plan).toContain('group by m.key_values, m.group_id, m.keeper_id\nunion all\n');
    expect(plan).toMatch(/\nfrom "ld_skipped"\norder by key_values, group_id$/);
    expect(compileSql(planExportQuery(dryRun, { rowValues: true })).sql).toMatch(
      /\nfrom "ld_members" as m\njoin "[^"]+"\."[^"]+" as l on "l"\."id" = m\.row_id\n/,
    );
    // the dry run itself computes no fingerprint
    expect(compileSql(cleanDryRunQuery({ ...dryRun, sampleGroups: 5 })).sql).not.toContain('fingerprint');
  });

  it("looks up each group's child rows and each keeper's merge donors in one object built once, never joins them to the members", () => {
    const notes = { ...notesReference, uniqueIndexes: [] };
    const settings: Omit<DryRunSettings, 'sampleGroups'> = {
      ...dryRun,
      references: [{ ...notes, constraint: 'activities_fk', table: 'lead_activities' }, notes],
      mergeColumns: [{ name: 'email', isText: true, rule: 'newest' }],
    };
    const plan = compileSql(planExportQuery(settings)).sql;
    // with the members guessed at a few rows, a join to the per-group counts was a nested loop over both (bench/README.md, B29)
    const lines = plan.slice(plan.lastIndexOf("\nselect 'group'::text as kind"));
    expect(lines).toContain('\nfrom "ld_members" as m\ngroup by m.key_values, m.group_id, m.keeper_id\nunion all\n');
    expect(lines).toContain('(select jsonb_object_agg(ms.ld_keeper_id::text, ms.sources) from (select m.keeper_id as ld_keeper_id,');
    expect(lines).toContain(') as ms) -> m.keeper_id::text as merge');
    expect(
      lines.match(
        /\(\(select jsonb_object_agg\(n\.group_id, n\.n\) from \(select m\.group_id, count\(\*\) as n\n {2}from "public"\."(lead_activities|notes)" as c/g,
      ),
    ).toHaveLength(2);
    expect(lines.match(/group by m\.group_id\) as n\) ->> m\.group_id\)::int8, 0\)/g)).toHaveLength(2);
  });

  it('names the donor row of each column the merge fills', () => {
    const { sql: text, parameters } = compileSql(mergeSourcesQuery(table, [{ name: 'email', isText: true, rule: 'newest' }], sql`ld_donors`));
    expect(text).toContain(`jsonb_strip_nulls(jsonb_build_object($1::text, case when bool_and(("t"."email" is null or btrim("t"."email") = ''))`);
    expect(text).toContain('then (array_agg("d"."id"::text order by "d"."created_at" desc nulls last, "d"."id" desc) filter');
    expect(parameters).toEqual(['email']);
  });
});

describe('plan lines', () => {
  const group = {
    type: 'group',
    group: 'a'.repeat(32),
    key: { phone: '1' },
    keep: '1',
    remove: ['2'],
    fingerprints: { '1': 'b'.repeat(32), '2': 'c'.repeat(32) },
  };
  it('names the line and JSON path of the first problem', () => {
    expect(parseBodyLine(JSON.stringify(group), 'p', 5)).toMatchObject({ keep: '1', remove: ['2'] });
    expect(() => parseBodyLine(JSON.stringify({ ...group, remove: ['2', '1'] }), 'p', 5)).toThrow(
      'plan p line 5: $.remove[1]: id 1 is also the keeper: every id is kept or removed, once; nothing was changed',
    );
    expect(() => parseBodyLine(JSON.stringify({ ...group, keep: '9' }), 'p', 5)).toThrow('plan p line 5: $.keep: id 9 is not a row of this group');
    expect(() => parseBodyLine(JSON.stringify({ ...group, remove: [] }), 'p', 5)).toThrow('$.remove: must list at least one id');
    expect(() => parseBodyLine('{"type":"group",', 'p', 7)).toThrow(/^plan p line 7: not valid JSON/);
    expect(() => parseHeaderLine(JSON.stringify({ type: 'header', format: 'lead-dedupe-plan', formatVersion: 2 }), 'p')).toThrow(
      'plan p line 1: $.formatVersion: Invalid input: expected 1; nothing was changed',
    );
  });
});

describe('plan flags', () => {
  it('takes days, refuses writing and applying a plan together, and a .csv plan', () => {
    expect(parseDuration('7d', '--max-plan-age', 1, 10 * 365 * 86_400_000)).toBe(604_800_000);
    expect(() => parseDuration('30d', '--pause', 0)).toThrow('--pause takes a duration from 0ms to 2147483647ms such as 500ms, 5s, 2m or 1h');
    expect(resolvePlanFlags({}).maxPlanAgeMs).toBe(604_800_000);
    expect(() => resolvePlanFlags({ plan: 'a', planOut: 'b' })).toThrow('--plan applies a plan; --plan-out and --plan-csv write one');
    expect(() => resolvePlanFlags({ planOut: 'b', execute: true })).toThrow('review it, then apply it with --plan <file> --execute');
    expect(() => resolvePlanFlags({ planOut: 'plan.CSV' })).toThrow('use --plan-csv plan.CSV');
    expect(() => resolvePlanFlags({ maxPlanAge: '3d' })).toThrow('--max-plan-age needs --plan <file>');
    expect(() => resolvePlanFlags({ plan: 'a', maxGroups: '5' })).toThrow('--max-groups does not apply to --plan');
  });
});
