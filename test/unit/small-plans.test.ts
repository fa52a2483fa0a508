import { describe, expect, it } from 'vitest';
import { lockHolderQuery, releaseTableLockStatement, runningRunQuery, tryTableLockQuery } from '../../src/clean/sql/advisory-lock-sql.js';
import { detailsCopyStatement, detailsQuery } from '../../src/scan/sql/details-sql.js';
import { arbiterPlanQuery, probeIndexElementsQuery, probeIndexStatement, probeTableStatement, quotedNamesQuery } from '../../src/sql/index-probe-plan.js';
import { removedRowsQuery } from '../../src/clean/restore/removed-rows-sql.js';
import { listRunsQuery } from '../../src/clean/runs/runs-sql.js';
import { analyzeTablesStatement, seededCountsQuery } from '../../src/seed/seed-sql.js';
import { compileSql, fakeKey, fakeTable } from '../support/compile.js';

/** The small planners that once lived as hand-written SQL inside core modules: exact SQL, identifiers quoted by kysely. */
const table = fakeTable(['id', 'device_id', 'phone', 'created_at'], 'Sales Data', 'Leads');
const key = fakeKey(table, ['device_id', 'phone']);

describe('advisory lock', () => {
  it('keys the lock by the table oid under the LD namespace', () => {
    expect(compileSql(tryTableLockQuery(16384))).toEqual({ sql: 'select pg_try_advisory_lock(((19524::int8 << 32) + $1::int8)) as ok', parameters: [16384] });
    expect(compileSql(releaseTableLockStatement(16384))).toEqual({ sql: 'select pg_advisory_unlock(((19524::int8 << 32) + $1::int8))', parameters: [16384] });
    const holder = compileSql(lockHolderQuery(16384));
    expect(holder.sql).toContain("where l.locktype = 'advisory' and l.granted and l.classid = 19524\n      and l.objid = $1::int8::oid and l.objsubid = 1");
    expect(holder.parameters).toEqual([16384]);
  });

  it('finds the running run in the archive schema it is given', () => {
    const { sql, parameters } = compileSql(runningRunQuery('audit "x"', 'Sales Data.Leads'));
    expect(sql).toContain('from "audit ""x"""."lead_dedupe_runs"\n    where table_name = $1 and status = \'running\'');
    expect(parameters).toEqual(['Sales Data.Leads']);
  });
});

describe('runs', () => {
  it('lists newest first by the numeric id, filtered by schema and name when the table is known', () => {
    const { sql, parameters } = compileSql(listRunsQuery('lead_dedupe', { schema: 'crm.v2', name: 'leads', qualified: 'crm.v2.leads' }, 20));
    expect(sql).toContain('from "lead_dedupe"."lead_dedupe_runs" as r');
    expect(sql).toContain(
      "where coalesce(to_jsonb(r) ->> 'table_schema' = $1 and to_jsonb(r) ->> 'table_relname' = $2,\n                      r.table_name = $3)",
    );
    expect(sql).toContain('r.options,\n           count(*) over () as matching\n');
    expect(sql).toMatch(/order by r\.id desc\n {4}limit \$4::int8$/);
    expect(parameters).toEqual(['crm.v2', 'leads', 'crm.v2.leads', 20]);
  });

  it('matches a dropped table as typed, and every table without a filter', () => {
    expect(compileSql(listRunsQuery('lead_dedupe', { typed: 'gone' }, 1)).sql).toContain('where r.table_name = $1\n');
    expect(compileSql(listRunsQuery('lead_dedupe', null, 1)).sql).toContain('where true\n');
  });
});

describe('removed rows export', () => {
  it('reads each column back from the archived jsonb, oldest batch first', () => {
    expect(compileSql(removedRowsQuery('lead_dedupe', 7, ['id', 'Phone No']))).toEqual({
      sql: `select r.run_id, r.batch_no + 1 as batch_no, r.group_id, r.keeper_id, r.row_data ->> 'id' as "id", r.row_data ->> 'Phone No' as "Phone No"
from "lead_dedupe"."lead_dedupe_removed" as r
where r.run_id = 7
order by r.batch_no, r.group_id, r.row_id`,
      parameters: [],
    });
  });
});

describe('details export through COPY', () => {
  it('wraps the details query, with the header only when asked', () => {
    const inner = compileSql(detailsQuery(key)).sql;
    expect(compileSql(detailsCopyStatement(key, true)).sql).toBe(`copy (${inner}) to stdout with (format csv, header true)`);
    expect(compileSql(detailsCopyStatement(key, false)).sql).toBe(`copy (${inner}) to stdout with (format csv, header false)`);
  });
});

describe('index probes', () => {
  it('builds the key index on an empty temporary copy and reads its elements back', () => {
    expect(compileSql(probeTableStatement(table)).sql).toBe('create temporary table "lead_dedupe_probe" (like "Sales Data"."Leads") on commit drop');
    expect(compileSql(probeIndexStatement('lead_dedupe_probe_1', key)).sql).toBe(
      'create index "lead_dedupe_probe_1" on pg_temp."lead_dedupe_probe" ("device_id", "phone")',
    );
    expect(compileSql(probeIndexElementsQuery()).sql).toContain("where i.indrelid = 'pg_temp.lead_dedupe_probe'::regclass");
  });

  it('asks the planner for the arbiter indexes, read-only', () => {
    expect(compileSql(arbiterPlanQuery(key)).sql).toBe(
      'explain (format json) insert into "Sales Data"."Leads" default values\non conflict ("device_id", "phone") do nothing',
    );
    expect(compileSql(quotedNamesQuery(['id', 'Phone']))).toEqual({
      sql: 'select array(select pg_catalog.quote_ident(n) from unnest($1::text[]) with ordinality as u(n, i) order by i) as quoted',
      parameters: [['id', 'Phone']],
    });
  });
});

describe('seed', () => {
  it('analyses and counts both seeded tables', () => {
    const tables = { schema: 'crm', leads: 'leads', activities: 'lead_activities' };
    expect(compileSql(analyzeTablesStatement(tables)).sql).toBe('analyze "crm"."leads", "crm"."lead_activities"');
    expect(compileSql(seededCountsQuery(tables)).sql).toBe(`select
    (select count(*) from "crm"."leads") as leads,
    (select count(*) from "crm"."lead_activities") as activities`);
  });
});
