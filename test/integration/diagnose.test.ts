import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diagnose } from '../../src/core/diagnose/diagnose.js';
import type { DiagnoseReport } from '../../src/core/diagnose/diagnose-report.js';
import { DIAGNOSE_DEFAULTS, type DiagnoseSettings } from '../../src/core/diagnose/diagnose-settings.js';
import { loadLeadTable } from '../../src/core/lead-table.js';
import { scan } from '../../src/scan/scan.js';
import { resolveKeys, type KeySettings } from '../../src/keys/resolve-key.js';
import { PRESET_KEYS } from '../../src/keys/presets.js';
import { seed } from '../../src/seed/seed.js';
import { diagnoseOracle, type OracleKey } from '../support/diagnose-oracle.js';
import { TEST_TARGETS, type TestDatabase } from '../support/test-database.js';

/**
 * A fixture with mapped column names (dev, usr, phone_number, created), two
 * spellings of each phone (grouped only when normalised), NULL phones
 * (grouped only with NULLs equal), NULL created times, created-time ties, a
 * group of 39 and gaps from 1 ms to about 11 days.
 */
const FIXTURE = `
create table contacts (id bigint primary key, dev integer, usr integer, phone_number text, niche text, name text, email text,
                       source text, created timestamptz);
insert into contacts
select i,
       case when i <= 39 then 1 else 1 + ((i % 400) % 5 + i / 1000) % 6 end,
       case when i <= 39 then 1 else 1 + (i % 400) % 3 + (i / 400) % 2 end,
       case when i <= 39 then '012-3456'
            when i % 17 = 0 then null
            when i % 2 = 0 then '01-' || (i % 400)
            else '01' || (i % 400) end,
       (array['Property', 'Finance', null])[1 + (i / 400 + i) % 3],
       'n' || (i % 5),
       case when i % 4 = 0 then null when i % 4 = 1 then '' else 'e' || (i % 7) || '@x' end,
       (array['webhook', 'form', 'api'])[1 + (i * 7) % 3],
       case when i % 13 = 0 then null
            when i <= 39 then timestamptz '2026-03-01 00:00:00+00' + (i / 3) * interval '400 milliseconds'
            else timestamptz '2026-03-01 00:00:00+00' + (i % 400) * interval '1 hour'
                 + interval '1 millisecond' * (10 ^ ((i / 400 * 3 + i) % 10)) end
from generate_series(1, 1500) as i;
`;

const MAP = { device_id: 'dev', user_id: 'usr', phone: 'phone_number' };
const plain: KeySettings = { columnMap: MAP, normalize: {}, defaultCountry: null, nullsEqual: false, customKeys: [] };
const DIGITS = (column: string) => `nullif(regexp_replace(${column}, '[^0-9]', '', 'g'), '')`;

describe.each(TEST_TARGETS.filter((t) => t.available))('diagnose on $label', (target) => {
  let test: TestDatabase;

  beforeAll(async () => {
    test = await target.open();
    await test.exec(FIXTURE);
    await seed(test.database, { table: 'seeded.leads', rows: 3000, scenario: 'production', replace: false });
  });
  afterAll(async () => test?.close());

  async function run(keyText: string, settings: Partial<KeySettings> = {}, diagnoseSettings: Partial<DiagnoseSettings> = {}, table = 'contacts') {
    const leadTable = await loadLeadTable(test.database.db, { table, idColumn: 'id', createdColumn: table === 'contacts' ? 'created' : 'created_at' });
    const [key] = resolveKeys(leadTable, [keyText], { ...plain, ...settings }).keys;
    return diagnose(test.database, { key: key!, settings: { ...DIAGNOSE_DEFAULTS, by: 'source', ...diagnoseSettings }, columnMap: MAP });
  }

  function expectMatches(report: DiagnoseReport, oracle: Awaited<ReturnType<typeof diagnoseOracle>>) {
    expect(report.groups).toBe(oracle.groups);
    expect(report.surplus).toBe(oracle.surplus);
    expect(report.gaps.map((g) => g.duplicates)).toEqual(oracle.gaps);
    expect(report.gapsUnknown).toBe(oracle.gapsUnknown);
    const { race, retry, resubmission, unknown } = report.cause;
    expect({ race, retry, resubmission, unknown }).toEqual(oracle.cause);
    expect(race + retry + resubmission + unknown).toBe(report.surplus);
    expect(Object.fromEntries(report.columnsThatDiffer.map((c) => [c.column, { groups: c.groups, rows: c.rows, only: c.rowsDifferingOnlyHere }]))).toEqual(
      oracle.differ,
    );
    expect(Object.fromEntries(report.laterCopiesAddData.map((c) => [c.column, { groups: c.groups, rows: c.rows }]))).toEqual(oracle.fill);
    for (const point of report.trend.points) expect(point.duplicates, point.start).toBe(oracle.duplicatesPerDay[point.start] ?? 0);
    expect(report.trend.last24h).toBe(oracle.last24h);
    expect(report.trend.last7d).toBe(oracle.last7d);
    expect(report.trend.last24hBeforeNow).toBe(oracle.last24hBeforeNow);
    expect(report.trend.last7dBeforeNow).toBe(oracle.last7dBeforeNow);
    expect(Object.fromEntries(report.by!.values.map((v) => [String(v.value), v.surplus]))).toEqual(oracle.bySurplus);
  }

  const cases: { name: string; keyText: string; settings: Partial<KeySettings>; oracle: OracleKey }[] = [
    { name: 'device-phone, mapped columns', keyText: 'device-phone', settings: {}, oracle: { expressions: ['c.dev', 'c.phone_number'], nullsEqual: false } },
    {
      name: 'device-phone, phone=digits',
      keyText: 'device-phone',
      settings: { normalize: { phone: 'digits' } },
      oracle: { expressions: ['c.dev', DIGITS('c.phone_number')], nullsEqual: false },
    },
    {
      name: 'device-phone, NULLs equal',
      keyText: 'device-phone',
      settings: { nullsEqual: true },
      oracle: { expressions: ['c.dev', 'c.phone_number'], nullsEqual: true },
    },
    {
      name: 'phone only, digits, NULLs equal',
      keyText: 'phone',
      settings: { normalize: { phone: 'digits' }, nullsEqual: true },
      oracle: { expressions: [DIGITS('c.phone_number')], nullsEqual: true },
    },
  ];

  it.each(cases)('$name: every figure equals the hand-written oracle', async ({ keyText, settings, oracle: oracleKey }) => {
    const windows = { race: 500, retry: 120_000 };
    const report = await run(keyText, settings, { raceWindowMs: windows.race, retryWindowMs: windows.retry, days: 10 });
    const compared = report.columnsThatDiffer.map((c) => c.column);
    const keyColumns = new Set(report.key.columns);
    expect(compared).toEqual(['dev', 'usr', 'phone_number', 'niche', 'name', 'email', 'source'].filter((c) => !keyColumns.has(c)));
    const oracle = await diagnoseOracle(test, 'contacts', oracleKey, compared, windows, 'source');
    expect(oracle.surplus).toBeGreaterThan(100);
    expect(oracle.gapsUnknown).toBeGreaterThan(0);
    expect(oracle.gaps.filter((n) => n > 0).length).toBeGreaterThan(4);
    expectMatches(report, oracle);
  });

  it('has the group of 39, created-time ties and NULL created times in the fixture', async () => {
    const report = await run('device-phone');
    const [fixture] = await test.query<{ largest: string; ties: string }>(`
      select (select max(n) from (select count(*) as n from contacts where phone_number is not null group by dev, phone_number) g) as largest,
             (select count(*) from (select 1 from contacts where created is not null group by dev, phone_number, created having count(*) > 1) t) as ties`);
    expect(Number(fixture!.largest)).toBe(39);
    expect(Number(fixture!.ties)).toBeGreaterThan(0);
    expect(report.gaps[0]!.duplicates).toBeGreaterThan(0);
  });

  it('trend: leads and duplicates per UTC day over --days, counted back from the newest created time', async () => {
    const report = await run('device-phone', {}, { days: 10 });
    const days = await test.query<{ day: string; n: string }>(`
      select to_char(created at time zone 'UTC', 'YYYY-MM-DD') as day, count(*) as n from contacts
      where created at time zone 'UTC' >= date_trunc('day', (select max(created) from contacts) at time zone 'UTC') - interval '9 days'
      group by 1 order by 1`);
    expect(report.trend.points).toHaveLength(10);
    const [newest] = await test.query<{ day: string }>(`select to_char(max(created) at time zone 'UTC', 'YYYY-MM-DD') as day from contacts`);
    expect(report.trend.points.at(-1)!.start).toBe(newest!.day);
    for (const point of report.trend.points) expect(point.leads, point.start).toBe(Number(days.find((d) => d.day === point.start)?.n ?? 0));
    const weekly = await run('device-phone', {}, { days: 10, interval: 'week' });
    expect(weekly.trend.points.length).toBeGreaterThanOrEqual(2);
    expect(weekly.trend.points.length).toBeLessThanOrEqual(3);
    const [rows] = await test.query<{ n: string }>('select count(*) as n from contacts');
    expect(report.rows).toBe(Number(rows!.n));
  });

  it('phone spread equals a count(distinct) oracle', async () => {
    const report = await run('device-phone', { normalize: { phone: 'digits' } });
    const [spread] = await test.query<{ phones: string; devices: string; users: string }>(`
      select count(*) as phones, count(*) filter (where nd > 1) as devices, count(*) filter (where nu > 1) as users
      from (select ${DIGITS('phone_number')} as p, count(distinct dev) as nd, count(distinct usr) as nu
            from contacts where ${DIGITS('phone_number')} is not null group by 1) s`);
    expect(report.phones).toEqual({
      column: 'phone_number',
      deviceColumn: 'dev',
      userColumn: 'usr',
      phones: Number(spread!.phones),
      onSeveralDevices: Number(spread!.devices),
      forSeveralUsers: Number(spread!.users),
    });
    expect(report.phones!.onSeveralDevices).toBeGreaterThan(0);
  });

  it('race + retry + resubmission + unknown = scan surplus for every preset on the seeded table, NULLs distinct and equal', async () => {
    for (const nullsEqual of [false, true]) {
      const table = await loadLeadTable(test.database.db, { table: 'seeded.leads', idColumn: 'id', createdColumn: 'created_at' });
      const { keys } = resolveKeys(table, [], { ...plain, columnMap: {}, nullsEqual });
      const scanned = await scan(test.database, { table, keys, top: 1 });
      for (const preset of PRESET_KEYS) {
        const report = await run(preset.name, { columnMap: {}, nullsEqual }, { by: null }, 'seeded.leads');
        const { race, retry, resubmission, unknown } = report.cause;
        const expected = scanned.keys.find((k) => k.name === preset.name)!;
        expect(race + retry + resubmission + unknown, preset.name).toBe(expected.surplus);
        expect(report.surplus).toBe(expected.surplus);
        expect(report.groups).toBe(expected.groups);
      }
    }
  });

  it('seed gives duplicates webhook-like timing and content (hand-written SQL)', async () => {
    const [f] = await test.query<Record<string, string>>(`
      with d as (
        select l.*, extract(epoch from created_at - lag(created_at) over w) as gap,
               first_value(niche) over w as first_niche, first_value(email) over w as first_email, first_value(name) over w as first_name,
               first_value(status) over w as first_status, row_number() over w as pos
        from seeded.leads as l where phone is not null
        window w as (partition by device_id, phone order by created_at, id))
      select count(*) filter (where pos > 1) as surplus,
             count(*) filter (where pos > 1 and gap <= 1) as race,
             count(*) filter (where pos > 1 and gap > 1 and gap <= 600) as retry,
             count(*) filter (where pos > 1 and gap > 3600) as later,
             count(*) filter (where pos > 1 and niche is distinct from first_niche and email is not distinct from first_email
                              and name is not distinct from first_name and status = first_status) as niche_only,
             count(*) filter (where pos > 1 and first_email is null and email is not null) as fills_email,
             count(*) filter (where pos > 1 and first_name is null and name is not null) as fills_name,
             count(*) filter (where pos > 1 and created_at > (select max(created_at) from seeded.leads) - interval '7 days') as last7d
      from d`);
    const n = Object.fromEntries(Object.entries(f!).map(([k, v]) => [k, Number(v)]));
    expect(n.race! / n.surplus!).toBeGreaterThan(0.5);
    expect(n.retry! / n.surplus!).toBeGreaterThan(0.1);
    expect(n.later! / n.surplus!).toBeGreaterThan(0.05);
    for (const figure of ['niche_only', 'fills_email', 'fills_name', 'last7d']) expect(n[figure], figure).toBeGreaterThan(0);
  });

  it('answers all four questions with figures from the report', async () => {
    const report = await run('device-phone');
    expect(report.answers.map((a) => a.question)).toHaveLength(4);
    const count = (n: number) => n.toLocaleString('en-US');
    expect(report.answers[3]!.answer).toContain(`${count(report.surplus)} surplus rows (${count(report.cause.race)})`);
    expect(report.answers[0]!.answer).toContain(count(report.columnsThatDiffer.find((c) => c.column === 'niche')!.rows));
  });

  it('counts recent duplicates back from the server clock, beside the figures up to the newest lead', async () => {
    // pairs created 2 hours, 3 days and 20 days ago, and a lone lead 10 days in the future (a client clock ahead): the newest lead is not "now"
    await test.exec(`
create table recent (id bigint primary key, dev integer, phone_number text, created_at timestamptz);
insert into recent select i, i / 2, 'p' || (i / 2), now() - (array[interval '2 hours', interval '3 days', interval '20 days'])[1 + (i / 2) % 3] - i * interval '1 second'
from generate_series(0, 59) as i;
insert into recent values (1000, 1000, 'lone', now() + interval '10 days');
`);
    const report = await run('device-phone', {}, { by: null }, 'recent');
    const [oracle] = await test.query<{ day: string; week: string; newest_week: string }>(`
      select count(*) filter (where created_at > now() - interval '24 hours')::int as day,
             count(*) filter (where created_at > now() - interval '7 days')::int as week,
             count(*) filter (where created_at > (select max(created_at) from recent) - interval '7 days')::int as newest_week
      from (select created_at, row_number() over (partition by dev, phone_number order by created_at, id) as pos from recent) as r
      where pos > 1`);
    expect(report.trend.last24hBeforeNow).toBe(Number(oracle!.day));
    expect(report.trend.last7dBeforeNow).toBe(Number(oracle!.week));
    expect(report.trend.last7d).toBe(Number(oracle!.newest_week));
    expect(report.trend.last7dBeforeNow).toBeGreaterThan(report.trend.last24hBeforeNow);
    expect(report.answers[3]!.answer).toContain(
      `${report.trend.last7dBeforeNow} in the 7 days before now (${report.trend.last24hBeforeNow} in the last 24 hours; server clock ${report.trend.serverNow})`,
    );
    expect(Math.abs(Date.parse(report.trend.serverNow) - Date.now())).toBeLessThan(60_000);
  });

  it('an unknown --by column is a catalog error', async () => {
    await expect(run('device-phone', {}, { by: 'nope' })).rejects.toThrow(/--by column "nope" not found/);
  });
});
