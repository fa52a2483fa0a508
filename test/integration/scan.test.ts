import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLeadTable } from '../../src/core/lead-table.js';
import { scan, scanKeyParts, scanUsesParallelWorkers } from '../../src/scan/scan.js';
import { keysInIndexOrder } from '../../src/core/key-order-index.js';
import type { Database } from '../../src/db/database.js';
import { openDatabase } from '../../src/db/with-database.js';
import { keyScanQuery } from '../../src/scan/sql/scan-sql.js';
import { compileSql } from '../support/compile.js';
import type { KeyReport } from '../../src/scan/scan-report.js';
import { resolveKeys, type KeySettings } from '../../src/keys/resolve-key.js';
import { PRESET_KEYS } from '../../src/keys/presets.js';
import { seed } from '../../src/seed/seed.js';
import { e164Oracle, sqlOracle } from '../support/oracle.js';
import { SERVER_URL, TEST_TARGETS, type TestDatabase } from '../support/test-database.js';
import { PLAIN_KEY_SETTINGS } from '../support/table-facts.js';

const plain = PLAIN_KEY_SETTINGS;
const figuresOf = (key: KeyReport) => ({ groups: key.groups, rowsInGroups: key.rowsInGroups, surplus: key.surplus, largestGroup: key.largestGroup });

describe.each(TEST_TARGETS.filter((t) => t.available))('scan on $label', (target) => {
  let test: TestDatabase;

  beforeAll(async () => {
    test = await target.open();
    await seed(test.database, { table: 'leads', rows: 4000, scenario: 'production', replace: false });
  });
  afterAll(async () => test?.close());

  async function scanWith(keys: string[], settings: Partial<KeySettings> = {}, table = 'leads') {
    const leadTable = await loadLeadTable(test.database.db, { table, idColumn: 'id', createdColumn: 'created_at' });
    const resolved = resolveKeys(leadTable, keys, { ...plain, ...settings });
    return scan(test.database, { table: leadTable, keys: resolved.keys, skippedKeys: resolved.skipped, top: 3 });
  }

  it('matches a hand-written GROUP BY for every preset, NULLs distinct and equal', async () => {
    for (const nullsEqual of [false, true]) {
      const report = await scanWith([], { nullsEqual });
      expect(report.keys.map((k) => k.name)).toEqual(PRESET_KEYS.map((k) => k.name));
      const n = (await test.query<{ n: string }>('select count(*) as n from leads'))[0]!.n;
      expect(report.rows).toBe(Number(n));
      for (const preset of PRESET_KEYS) {
        const key = report.keys.find((k) => k.name === preset.name)!;
        expect(figuresOf(key), `${preset.name} nullsEqual=${nullsEqual}`).toEqual(await sqlOracle(test, 'leads', preset.columns, !nullsEqual));
      }
    }
  });

  it('the seed reproduces the production finding at its scale, and NULL phones only group when NULLs are equal', async () => {
    const distinct = await scanWith(['device-phone']);
    const equal = await scanWith(['device-phone'], { nullsEqual: true });
    const n = (await test.query<{ n: string }>('select count(*) as n from leads where phone is null'))[0]!.n;
    expect(Number(n)).toBeGreaterThan(0);
    expect(equal.keys[0]!.rowsInGroups).toBeGreaterThan(distinct.keys[0]!.rowsInGroups);
    expect(distinct.keys[0]!.largestGroup).toBe(39);
  });

  it('e164 matches libphonenumber-js on every preset with a phone', async () => {
    for (const nullsEqual of [false, true]) {
      const report = await scanWith([], { normalize: { phone: 'e164' }, defaultCountry: 'MY', nullsEqual });
      for (const preset of PRESET_KEYS) {
        const key = report.keys.find((k) => k.name === preset.name)!;
        expect(key.normalize).toEqual({ phone: 'e164' });
        expect(figuresOf(key), `${preset.name} nullsEqual=${nullsEqual}`).toEqual(await e164Oracle(test, 'leads', preset.columns, 'phone', 'MY', !nullsEqual));
      }
    }
  });

  it('counts the histogram and top groups exactly', async () => {
    const [key] = (await scanWith(['device-phone'])).keys;
    // --top 0 runs the summary alone (another statement): the same figures and histogram, no groups listed
    const leadTable = await loadLeadTable(test.database.db, { table: 'leads', idColumn: 'id', createdColumn: 'created_at' });
    const [summaryOnly] = (await scan(test.database, { table: leadTable, keys: resolveKeys(leadTable, ['device-phone'], plain).keys, top: 0 })).keys;
    expect({ ...figuresOf(summaryOnly!), sizes: summaryOnly!.sizes, top: summaryOnly!.top }).toEqual({ ...figuresOf(key!), sizes: key!.sizes, top: [] });
    const sizes = await test.query<{ size: string; groups: string }>(`
      select case when n = 2 then '2' when n = 3 then '3' when n < 10 then '4-9' when n < 20 then '10-19' else '20+' end as size,
             count(*) as groups
      from (select count(*) as n from leads where phone is not null group by device_id, phone having count(*) > 1) g
      group by 1`);
    for (const bucket of key!.sizes) {
      expect(bucket.groups, bucket.size).toBe(Number(sizes.find((s) => s.size === bucket.size)?.groups ?? 0));
    }
    const largest = await test.query<{ device_id: number; phone: string; n: string; ids: string[] }>(`
      select device_id, phone, count(*) as n, (array_agg(id::text order by created_at, id))[1:5] as ids
      from leads where phone is not null group by device_id, phone order by count(*) desc, device_id, phone limit 3`);
    expect(
      key!.top.map((group) => ({ key: group.key, count: group.count, ids: group.ids.map(String) })),
      'every top group: its key, size and oldest ids (the second read filters on the top keys)',
    ).toEqual(largest.map((row) => ({ key: { device_id: row.device_id, phone: row.phone }, count: Number(row.n), ids: row.ids.map(String) })));
  });

  it('an index led by the key (what index add builds) changes no figure, top groups and ties included', async () => {
    const leadTable = await loadLeadTable(test.database.db, { table: 'leads', idColumn: 'id', createdColumn: 'created_at' });
    const scanKey = async (top: number) => {
      const report = await scan(test.database, { table: leadTable, keys: resolveKeys(leadTable, ['device-phone'], plain).keys, top, parts: 2 });
      return { ...report, durationMs: 0 };
    };
    const without = [await scanKey(0), await scanKey(40)];
    await test.exec(`create index ld_key_idx on leads (device_id, phone);
      analyze leads;`);
    try {
      expect([await scanKey(0), await scanKey(40)]).toEqual(without);
    } finally {
      await test.exec('drop index ld_key_idx;');
    }
  });

  it('custom keys, trim/lower/digits, mapped and quoted names in a schema-qualified table', async () => {
    await test.exec(`create schema "Sales Data";
      create table "Sales Data"."Leads" (id int primary key, "Niche" text, "order" text, phone_number text, created_at timestamptz);
      insert into "Sales Data"."Leads" values
        (1, 'Property', ' A ', '012-345 6789', now()), (2, 'Property', 'a', '0123456789', now()),
        (3, 'property', 'A', '(012) 3456789', now()), (4, null, 'b', null, now()), (5, null, 'b', null, now()),
        (6, 'Finance', ' a', '012 345 6789', now())`);
    const mapped = { columnMap: { phone: 'phone_number' } };
    const report = await scanWith(
      ['phone', 'Niche,order', 'order'],
      { ...mapped, normalize: { phone: 'digits', order: 'lower', Niche: 'trim' } },
      'Sales Data.Leads',
    );
    expect(report.table).toBe('Sales Data.Leads');
    const [phone, nicheOrder, order] = report.keys;
    expect(phone!.columns).toEqual(['phone_number']);
    expect(figuresOf(phone!)).toEqual({ groups: 1, rowsInGroups: 4, surplus: 3, largestGroup: 4 });
    // "Niche" trimmed is case-sensitive: ('Property','a') x2 only; rows 4-5 have a NULL niche
    expect(figuresOf(nicheOrder!)).toEqual({ groups: 1, rowsInGroups: 2, surplus: 1, largestGroup: 2 });
    expect(figuresOf(order!)).toEqual({ groups: 2, rowsInGroups: 6, surplus: 4, largestGroup: 4 });
  });
});

/**
 * One key's scan lets its aggregate use the server's parallel workers
 * (ConnectOptions.parallelWorkers, chosen by scanUsesParallelWorkers): on a
 * table large enough (300k rows: at 150k the planner still prefers one hash
 * aggregate) the plan gathers from
 * workers with it and not without, and both give the oracle's figures.
 */
describe.runIf(SERVER_URL)('scan with parallel workers on the server', () => {
  let test: TestDatabase;
  const opened: Database[] = [];
  beforeAll(async () => {
    test = await TEST_TARGETS.find((t) => t.label === 'postgres')!.open();
    await seed(test.database, { table: 'leads', rows: 300_000, scenario: 'production', replace: false });
    await test.query('analyze leads');
  });
  afterAll(async () => {
    for (const database of opened) await database.db.destroy();
    await test?.close();
  });

  it('sorts the aggregate in parallel workers with parallelWorkers and not without, with the same figures', async () => {
    const results = [];
    for (const parallelWorkers of [true, false]) {
      const database = await openDatabase(test.target, { parallelWorkers });
      opened.push(database);
      const table = await loadLeadTable(database.db, { table: 'leads', idColumn: 'id', createdColumn: 'created_at' });
      const { keys } = resolveKeys(table, ['device-phone'], plain);
      const explained = await sql.raw<{ 'QUERY PLAN': string }>(`explain ${compileSql(keyScanQuery(keys[0]!, 10)).sql}`).execute(database.db);
      const plan = explained.rows.map((row) => row['QUERY PLAN']).join('\n');
      // the aggregate's input from the workers, sorted (the top groups' filtered read may use a worker either way)
      expect(/Gather Merge/.test(plan), plan).toBe(parallelWorkers);
      const report = await scan(database, { table, keys, top: 10 });
      results.push({ figures: figuresOf(report.keys[0]!), top: report.keys[0]!.top });
    }
    expect(results[0]!.figures).toEqual(await sqlOracle(test, 'leads', ['device_id', 'phone'], true));
    expect(results[1]).toEqual(results[0]);
  });

  it('is chosen for one key alone, without a details export beside it', () => {
    expect(scanUsesParallelWorkers(1, false)).toBe(true);
    expect(scanUsesParallelWorkers(0, false)).toBe(false); // every preset: the keys run side by side instead
    expect(scanUsesParallelWorkers(2, false)).toBe(false);
    expect(scanUsesParallelWorkers(1, true)).toBe(false);
    // the same case is the one split into --jobs parts
    expect([scanKeyParts(1, false, 3), scanKeyParts(0, false, 3), scanKeyParts(2, false, 3), scanKeyParts(1, true, 3)]).toEqual([3, 1, 1, 1]);
  });
});

/**
 * One key split into parts by a hash of the key (ScanOptions.parts, what
 * `scan --key k --jobs n` does on a server): the same report as the whole
 * statement, top groups included (ties at the cut decided by the key, as
 * the hand-written ORDER BY does), and every figure from one snapshot.
 */
describe.runIf(SERVER_URL)('scan of one key in hash parts on the server', () => {
  let test: TestDatabase;
  let database: Database;
  beforeAll(async () => {
    test = await TEST_TARGETS.find((t) => t.label === 'postgres')!.open();
    await seed(test.database, { table: 'leads', rows: 20_000, scenario: 'production', replace: false });
    await test.query('analyze leads');
    database = await openDatabase(test.target, { connections: 5 });
  });
  afterAll(async () => {
    await database?.db.destroy();
    await test?.close();
  });

  const withoutDuration = (report: Awaited<ReturnType<typeof scan>>) => ({ ...report, durationMs: 0 });
  async function scanKey(key: string, settings: Partial<KeySettings>, top: number, parts: number) {
    const table = await loadLeadTable(database.db, { table: 'leads', idColumn: 'id', createdColumn: 'created_at' });
    return withoutDuration(await scan(database, { table, keys: resolveKeys(table, [key], { ...plain, ...settings }).keys, top, parts }));
  }

  it('gives the whole statement report for raw, NULLs-equal, normalised and unsplittable keys, at every --top', async () => {
    const cases: [string, Partial<KeySettings>][] = [
      ['device-phone', {}],
      ['user-phone', { nullsEqual: true }],
      ['device-phone', { normalize: { phone: 'e164' }, defaultCountry: 'MY' }],
      ['phone', { normalize: { phone: 'digits' } }], // no raw column: runs whole
    ];
    for (const [key, settings] of cases) {
      for (const top of [0, 3, 50]) {
        const whole = await scanKey(key, settings, top, 1);
        for (const parts of [2, 3])
          expect(await scanKey(key, settings, top, parts), `${key} ${JSON.stringify(settings)} top ${top} in ${parts}`).toEqual(whole);
      }
    }
  });

  it('finds the top groups and figures of a hand-written GROUP BY, ties at the cut included', async () => {
    const report = await scanKey('device-phone', {}, 25, 3);
    const [key] = report.keys;
    expect(figuresOf(key!)).toEqual(await sqlOracle(test, 'leads', ['device_id', 'phone'], true));
    const largest = await test.query<{ device_id: number; phone: string; n: string; ids: string[] }>(`
      select device_id, phone, count(*) as n, (array_agg(id::text order by created_at, id))[1:5] as ids
      from leads where phone is not null group by device_id, phone order by count(*) desc, device_id, phone limit 25`);
    const sizes = new Set(largest.map((row) => row.n));
    expect(sizes.size, 'groups of equal size inside the top 25, so the order of ties is checked').toBeLessThan(25);
    expect(key!.top.map((group) => ({ key: group.key, count: group.count, ids: group.ids.map(String) }))).toEqual(
      largest.map((row) => ({ key: { device_id: row.device_id, phone: row.phone }, count: Number(row.n), ids: row.ids.map(String) })),
    );
  });

  it('keeps a group whole under a case-insensitive (nondeterministic) collation: the hash follows the collation', async () => {
    await test.exec(`create collation ld_ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
      create table ci_leads (id int primary key, device_id int, phone text collate ld_ci, created_at timestamptz default now());
      insert into ci_leads (id, device_id, phone)
        select i, i % 7, case i % 3 when 0 then 'Ab' || (i % 50) when 1 then 'aB' || (i % 50) else 'AB' || (i % 50) end
        from generate_series(1, 3000) as i;
      analyze ci_leads`);
    const table = await loadLeadTable(database.db, { table: 'ci_leads', idColumn: 'id', createdColumn: 'created_at' });
    const { keys } = resolveKeys(table, ['device_id,phone'], plain);
    const [whole, inParts] = [await scan(database, { table, keys, top: 5, parts: 1 }), await scan(database, { table, keys, top: 5, parts: 3 })];
    // 7 devices × 50 phone values (each in three spellings the collation calls equal): 350 groups, every row in one
    expect(figuresOf(whole.keys[0]!)).toEqual({ groups: 350, rowsInGroups: 3000, surplus: 2650, largestGroup: 9 });
    // The same groups, sizes and oldest ids; which spelling stands for a group is whichever row the aggregate met first
    const comparable = (report: typeof whole) =>
      report.keys.map((key) => ({
        ...key,
        durationMs: 0,
        top: key.top.map((group) => ({ ...group, key: { ...group.key, phone: String(group.key.phone).toLowerCase() } })),
      }));
    expect(comparable(inParts)).toEqual(comparable(whole));
  });

  it('runs a key an index reads in key order whole, over the index, with the report of the parts and a hand-written oracle', async () => {
    const cases: [Partial<KeySettings>, number][] = [
      [{}, 0],
      [{}, 3],
      [{}, 25],
      [{ nullsEqual: true }, 25],
    ];
    const before = await Promise.all(cases.map(([settings, top]) => scanKey('device-phone', settings, top, 2)));
    await test.exec(`create index ld_test_key_idx on leads (device_id, phone);
      vacuum analyze leads;`);
    try {
      const table = await loadLeadTable(database.db, { table: 'leads', idColumn: 'id', createdColumn: 'created_at' });
      const keyOf = (name: string, settings: Partial<KeySettings> = {}) => resolveKeys(table, [name], { ...plain, ...settings }).keys;
      // Led by the key's columns in its order; not in another order, nor for a normalised key or one of other columns
      expect(
        await keysInIndexOrder(database, table, [
          ...keyOf('device-phone'),
          ...keyOf('user-phone'),
          ...keyOf('device-phone', { normalize: { phone: 'digits' } }),
        ]),
      ).toEqual([true, false, false]);
      for (const [index, [settings, top]] of cases.entries()) {
        expect(await scanKey('device-phone', settings, top, 2), `${JSON.stringify(settings)} top ${top}`).toEqual(before[index]);
      }
      const [key] = (await scanKey('device-phone', {}, 25, 2)).keys;
      expect(figuresOf(key!)).toEqual(await sqlOracle(test, 'leads', ['device_id', 'phone'], true));
      const largest = await test.query<{ n: string; ids: string[] }>(`
        select count(*) as n, (array_agg(id::text order by created_at, id))[1:5] as ids
        from leads where phone is not null group by device_id, phone order by count(*) desc, device_id, phone limit 25`);
      expect(key!.top.map((group) => ({ count: group.count, ids: group.ids.map(String) }))).toEqual(
        largest.map((row) => ({ count: Number(row.n), ids: row.ids })),
      );
      for (const [definition, why] of [
        ['(phone, device_id)', 'another order'],
        ['(device_id, phone) where niche is not null', 'a partial index'],
      ] as const) {
        await test.exec(`drop index ld_test_key_idx;
          create index ld_test_key_idx on leads ${definition};`);
        expect(await keysInIndexOrder(database, table, keyOf('device-phone')), why).toEqual([false]);
      }
    } finally {
      await test.exec('drop index if exists ld_test_key_idx;');
    }
  });

  it('reads one snapshot while a writer grows the largest group: its listed size is the largest size, every time', async () => {
    await test.exec(`insert into leads (device_id, user_id, phone, niche) select 999999, 1, '60999999999', 'x' from generate_series(1, 60)`);
    let writing = true;
    const writer = (async () => {
      while (writing) await test.exec(`insert into leads (device_id, user_id, phone, niche) values (999999, 1, '60999999999', 'x')`);
    })();
    try {
      for (let run = 0; run < 10; run++) {
        const [key] = (await scanKey('device-phone', {}, 3, 2)).keys;
        expect(key!.top[0]!.key).toEqual({ device_id: 999999, phone: '60999999999' });
        expect(key!.top[0]!.count, `run ${run}`).toBe(key!.largestGroup);
        expect(key!.sizes.reduce((sum, bucket) => sum + bucket.groups, 0)).toBe(key!.groups);
      }
    } finally {
      writing = false;
      await writer;
    }
  });
});
