import type { TableDistribution } from '../../src/db/distribution.js';
import { describe, expect, it } from 'vitest';
import { resolveDiagnoseSettings } from '../../src/cli/diagnose-flags.js';
import { formatWindow, percent } from '../../src/core/diagnose/answers.js';
import { diagnoseQuery, phoneSpreadQuery, timelineQuery } from '../../src/sql/diagnose-plan.js';
import { gapLabels } from '../../src/render/common/gap-labels.js';
import { sparkline } from '../../src/render/diagnose/table.js';
import { compileSql, fakeKey, fakeTable } from '../support/compile.js';
import { digitsSql } from '../support/normalized-sql.js';

const table = fakeTable(['id', 'device_id', 'phone', 'niche', 'created_at']);
const key = fakeKey(table, ['device_id', 'phone']);
const plan = { key, compared: ['niche'], by: 'niche', raceWindowMs: 1000, retryWindowMs: 600_000, interval: 'day' as const };

describe('diagnoseQuery', () => {
  it('stages the group members once, oldest first, with gap, differ and fill flags from one window', () => {
    const { sql, parameters } = compileSql(diagnoseQuery(plan));
    expect(parameters).toEqual([]);
    expect(sql).toContain(`), members as materialized (
  select "m"."ld_k1", "m"."ld_k2", "m"."ld_created", "m"."ld_pos", "m"."ld_gap_ms", "m"."ld_by",
         m.ld_texts[1] is distinct from m.ld_first[1] as "ld_d1",
         nullif(btrim(m.ld_texts[1]), '') is not null and nullif(btrim(m.ld_first[1]), '') is null as "ld_f1"
  from (select "l"."device_id" as "ld_k1", "l"."phone" as "ld_k2",
               "l"."created_at"::timestamptz as ld_created,
               row_number() over w as ld_pos,
               extract(epoch from "l"."created_at"::timestamptz - lag("l"."created_at"::timestamptz) over w) * 1000 as ld_gap_ms,
               "l"."niche"::text as ld_by,
               array["l"."niche"::text]::text[] as ld_texts,
               first_value(array["l"."niche"::text]::text[]) over w as ld_first
        from "public"."leads" as l where exists (select from groups as g where "l"."device_id" = "g"."ld_k1" and "l"."phone" = "g"."ld_k2")
        window w as (partition by "l"."device_id", "l"."phone" order by "l"."created_at" asc nulls last, "l"."id" asc)) as m
), dups as (
  select *,
         case when ld_gap_ms is null then 'unknown'
              when ld_gap_ms <= 1000 then 'race'
              when ld_gap_ms <= 600000 then 'retry'
              else 'resubmission' end as ld_cause,
         "ld_d1"::int as ld_ndiff,
         "ld_f1" as ld_any_fill
  from members
  where ld_pos > 1
)`);
    expect(
      sql.startsWith(`with groups as materialized (
select "device_id" as "ld_k1", "phone" as "ld_k2", count(*) as n
from "public"."leads"
where "device_id" is not null and "phone" is not null
group by 1, 2
having count(*) > 1
)`),
    ).toBe(true);
    expect(sql).toContain(
      `array[count(*) filter (where ld_gap_ms <= 100), count(*) filter (where ld_gap_ms > 100 and ld_gap_ms <= 1000), count(*) filter (where ld_gap_ms > 1000 and ld_gap_ms <= 10000), count(*) filter (where ld_gap_ms > 10000 and ld_gap_ms <= 60000), count(*) filter (where ld_gap_ms > 60000 and ld_gap_ms <= 600000), count(*) filter (where ld_gap_ms > 600000 and ld_gap_ms <= 3600000), count(*) filter (where ld_gap_ms > 3600000 and ld_gap_ms <= 86400000), count(*) filter (where ld_gap_ms > 86400000)]::int8[] as gaps`,
    );
    expect(sql).toContain(`), newest as (
  select max("created_at"::timestamptz) as at from "public"."leads"
)`);
    // read-only: no temp table, no DDL, so a hot standby can run it
    expect(sql).not.toMatch(/\b(create|insert|update|delete|temp)\b/i);
  });

  it('without a created column every gap is unknown, and without compared columns the arrays are empty', () => {
    const noCreated = fakeTable(['id', 'device_id', 'phone']);
    const { sql } = compileSql(diagnoseQuery({ ...plan, key: fakeKey(noCreated, ['device_id', 'phone']), compared: [], by: null }));
    expect(sql).toContain('null::timestamptz as ld_created');
    expect(sql).toContain(`'{}'::int8[] as diff_rows`);
    expect(sql).not.toContain('ld_texts');
    expect(sql).toContain('null::text as ld_by');
    expect(sql).toContain('where false\n  group by ld_by');
  });

  it('groups NULLs together with NULLs equal and picks the rows by the normalised key', () => {
    const normalised = fakeKey(table, ['device_id', { column: 'phone', normalize: 'digits' }], { nullsEqual: true });
    const { sql } = compileSql(diagnoseQuery({ ...plan, key: normalised }));
    expect(sql).toContain(`where jsonb_build_array("l"."device_id", ${digitsSql('"l"."phone"')}) = jsonb_build_array("g"."ld_k1", "g"."ld_k2")`);
    expect(sql).toContain(`window w as (partition by "l"."device_id", ${digitsSql('"l"."phone"')} order by`);
  });

  it('on a Citus distributed table joins the groups (the form its planner was tested with)', () => {
    const distribution: TableDistribution = {
      citusVersion: '13.2',
      kind: 'distributed',
      method: 'hash',
      column: 'device_id',
      shardCount: 32,
      colocatedChildren: [],
      coordinatorLeftoverBytes: 0,
    };
    const distributed = { ...table, info: { ...table.info, distribution } };
    const { sql } = compileSql(diagnoseQuery({ ...plan, key: fakeKey(distributed, ['device_id', 'phone']) }));
    expect(sql).toContain(`  from (select "g"."ld_k1" as "ld_k1", "g"."ld_k2" as "ld_k2",`);
    expect(sql).toContain(`        from groups as g join "public"."leads" as l on "l"."device_id" = "g"."ld_k1" and "l"."phone" = "g"."ld_k2"
        window w as (partition by "g"."ld_k1", "g"."ld_k2" order by`);
  });

  it('quotes column names as identifiers', () => {
    const odd = fakeTable(['id', 'device_id', 'phone', 'x"; drop table y; --', 'created_at']);
    const { sql } = compileSql(diagnoseQuery({ ...plan, key: fakeKey(odd, ['device_id', 'phone']), compared: ['x"; drop table y; --'] }));
    expect(sql).toContain(`array["l"."x""; drop table y; --"::text]::text[] as ld_texts`);
  });
});

describe('timelineQuery and phoneSpreadQuery', () => {
  it('counts leads per ISO week over the window ending at the newest created time', () => {
    expect(compileSql(timelineQuery(table, 'week', 30)).sql).toBe(`with buckets as (
  select date_trunc('week', "created_at"::timestamptz at time zone 'UTC') as start, count(*) as n, max("created_at"::timestamptz) as newest
  from "public"."leads"
  group by 1
), bounds as (
  select max(newest) as newest, coalesce(sum(n), 0) as total from buckets
)
select (select total from bounds) as rows,
       to_char((select newest from bounds) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as newest,
       (select json_agg(json_build_array(to_char(s.start, 'YYYY-MM-DD'), coalesce(b.n, 0)) order by s.start)
        from generate_series(date_trunc('week', ((select newest from bounds) - 29 * interval '1 day') at time zone 'UTC'), date_trunc('week', (select newest from bounds) at time zone 'UTC'), '1 week'::interval) as s(start)
        left join buckets as b on b.start = s.start) as points`);
  });

  it('spreads phones over devices with one hash aggregate (min <> max, no count(distinct)), integers and texts as they are', () => {
    // Any other type is compared by its text (numeric: 1.0 = 1.00, but two texts)
    const numericDevice: typeof key = {
      ...key,
      table: { ...table, info: { ...table.info, columns: table.info.columns.map((c) => (c.name === 'device_id' ? { ...c, type: 'numeric' } : c)) } },
    };
    expect(compileSql(phoneSpreadQuery(numericDevice, { phone: key.columns[1]!, device: 'device_id', user: null })).sql).toContain(
      `"device_id"::text as ld_device`,
    );
    expect(compileSql(phoneSpreadQuery(key, { phone: key.columns[1]!, device: 'device_id', user: null })).sql).toBe(`select count(*) as phones,
       count(*) filter (where several_devices) as on_several_devices,
       count(*) filter (where several_users) as for_several_users
from (select min("ld_device") <> max("ld_device") as several_devices, false as several_users
      from (select "phone" as ld_phone, "device_id" as ld_device, null::text as ld_user
            from "public"."leads" offset 0) as keyed
      where ld_phone is not null
      group by ld_phone) as spread`);
  });
});

describe('diagnose settings and wording', () => {
  it('takes windows as 500ms, 2s or 15m and defaults to 1 s and 10 min over 30 days', () => {
    expect(resolveDiagnoseSettings({})).toEqual({ raceWindowMs: 1000, retryWindowMs: 600_000, days: 30, interval: 'day', by: null });
    expect(resolveDiagnoseSettings({ raceWindow: '500ms', retryWindow: '15m', days: '7', interval: 'week', by: 'source' })).toEqual({
      raceWindowMs: 500,
      retryWindowMs: 900_000,
      days: 7,
      interval: 'week',
      by: 'source',
    });
    expect(resolveDiagnoseSettings({ raceWindow: '2s' }).raceWindowMs).toBe(2000);
  });

  it('rejects a race window larger than the retry window, --days 0 and junk', () => {
    expect(() => resolveDiagnoseSettings({ raceWindow: '15m', retryWindow: '2s' })).toThrow(
      /--race-window \(900000 ms\) must not be larger than --retry-window \(2000 ms\)/,
    );
    expect(() => resolveDiagnoseSettings({ days: '0' })).toThrow(/--days takes a whole number from 1 to 36500; got "0"/);
    expect(() => resolveDiagnoseSettings({ days: 'ten' })).toThrow(/--days takes a whole number/);
    expect(() => resolveDiagnoseSettings({ raceWindow: 'soon' })).toThrow(/--race-window takes a duration/);
    expect(() => resolveDiagnoseSettings({ by: ' ' })).toThrow(/--by takes a column name/);
  });

  it('labels windows, shares, gap buckets and sparklines', () => {
    expect([500, 1000, 2500, 60_000, 600_000, 3_600_000].map(formatWindow)).toEqual(['500 ms', '1 s', '2,500 ms', '1 min', '10 min', '1 h']);
    expect([percent(0, 10), percent(1, 1000), percent(71, 100), percent(0, 0)]).toEqual(['0%', '<1%', '71%', '0%']);
    expect(gapLabels([{ upToMs: 100 }, { upToMs: 86_400_000 }, { upToMs: null }])).toEqual(['≤ 100 ms', '≤ 1 day', '> 1 day']);
    expect(sparkline([0, 1, 4, 8])).toBe(' ▁▄█');
  });
});
