import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLeadTable } from '../../src/core/lead-table.js';
import { scan } from '../../src/core/scan.js';
import type { KeyReport } from '../../src/core/scan-report.js';
import { resolveKeys, type KeySettings } from '../../src/keys/resolve-key.js';
import { PRESET_KEYS } from '../../src/keys/presets.js';
import { seed } from '../../src/seed/seed.js';
import { e164Oracle, sqlOracle } from '../support/oracle.js';
import { TEST_TARGETS, type TestDatabase } from '../support/test-database.js';
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
    const sizes = await test.query<{ size: string; groups: string }>(`
      select case when n = 2 then '2' when n = 3 then '3' when n < 10 then '4-9' when n < 20 then '10-19' else '20+' end as size,
             count(*) as groups
      from (select count(*) as n from leads where phone is not null group by device_id, phone having count(*) > 1) g
      group by 1`);
    for (const bucket of key!.sizes) {
      expect(bucket.groups, bucket.size).toBe(Number(sizes.find((s) => s.size === bucket.size)?.groups ?? 0));
    }
    const [largest] = await test.query<{ device_id: number; phone: string; ids: string[] }>(`
      select device_id, phone, (array_agg(id::text order by created_at, id))[1:5] as ids
      from leads where phone is not null group by device_id, phone order by count(*) desc, device_id, phone limit 1`);
    expect(key!.top[0]!.key).toEqual({ device_id: largest!.device_id, phone: largest!.phone });
    expect(key!.top[0]!.ids.map(String)).toEqual(largest!.ids.map(String));
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
