import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { addConstraint } from '../../src/core/constraint/apply-add.js';
import { planUpsert } from '../../src/core/constraint/upsert.js';
import { applyClean } from '../../src/clean/apply-clean.js';
import { resolveCleanOptions } from '../../src/cli/clean-flags.js';
import { scan } from '../../src/scan/scan.js';
import type { NormalizeRule } from '../../src/keys/key-definition.js';
import { keyFor, runPrinted, uniqueIndexesOf } from '../support/constraint-fixtures.js';
import { TEST_TARGETS, type TestDatabase } from '../support/test-database.js';
import { asciiDigits } from '../support/unicode-digit.js';

/** Phones as they arrive from forms in Arabic, Persian, Hindi, Bengali and CJK (fullwidth) locales, beside ASCII spellings. */
const PHONES: [device: number, phone: string][] = [
  [1, '٠٥٥٥١٢٣٤٥٦٧'],
  [1, '05551234567'],
  [2, '۰۱۲-۳۴۵ ۶۷۸۹'],
  [2, '012 345 6789'],
  [3, '०१२३४५६७८९'],
  [3, '0123456789'],
  [4, '０１２３４５６７８９'],
  [4, '+60123456789'],
  [5, '০১২৩৪৫৬৭৮৯'],
  [5, 'no phone'],
  [6, '٠٥٥٥١٢٣٤٥٦٧'],
  [6, '05551234568'],
  [7, '+٦٠١٢٣٤٥٦٧٨٩'],
  [7, '٠٠٦٠١٢٣٤٥٦٧٨٩'],
  [7, '60123456789'],
];

/** A second implementation: \p{Nd} → digit value in JavaScript, then the digits, or libphonenumber-js's E.164 (MY). */
function oracleValue(rule: 'digits' | 'e164', phone: string): string | null {
  const ascii = asciiDigits(phone);
  if (rule === 'digits') return ascii.replace(/[^0-9]/g, '') || null;
  return /[0-9]/.test(ascii) ? (parsePhoneNumberFromString(ascii, 'MY')?.number ?? null) : null;
}

function oracle(rule: 'digits' | 'e164') {
  const groups = new Map<string, number>();
  for (const [device, phone] of PHONES) {
    const value = oracleValue(rule, phone);
    if (value === null) continue;
    const key = `${device}|${value}`;
    groups.set(key, (groups.get(key) ?? 0) + 1);
  }
  const sizes = [...groups.values()].filter((n) => n > 1);
  return { groups: sizes.length, surplus: sizes.reduce((a, b) => a + b - 1, 0) };
}

describe.each(TEST_TARGETS.filter((t) => t.available))('Unicode digits on $label', (target) => {
  let test: TestDatabase;

  beforeAll(async () => {
    test = await target.open();
  });
  afterAll(async () => test?.close());
  beforeEach(async () => {
    await test.exec(`drop table if exists intl_leads;
create table intl_leads (id bigint generated always as identity primary key, device_id int not null, user_id int, phone text, created_at timestamptz not null);
`);
    const values = PHONES.map(([device, phone], index) => `(${device}, 1, '${phone}', timestamptz '2026-01-01' + interval '${index} minutes')`);
    await test.query(`insert into intl_leads (device_id, user_id, phone, created_at) values ${values.join(', ')}`);
  });

  const settingsFor = (rule: NormalizeRule) => ({ normalize: { phone: rule }, defaultCountry: rule === 'e164' ? 'MY' : null });

  for (const rule of ['digits', 'e164'] as const) {
    it(`${rule}: scan, clean, constraint add and the upsert agree that '٠٥٥٥١٢٣٤٥٦٧' is '05551234567'`, async () => {
      const expected = oracle(rule);
      expect(expected.groups).toBeGreaterThanOrEqual(4);
      const key = await keyFor(test.database, 'intl_leads', 'device-phone', settingsFor(rule));

      const report = await scan(test.database, { table: key.table, keys: [key], skippedKeys: [], top: 10 });
      expect({ groups: report.keys[0]!.groups, surplus: report.keys[0]!.surplus }).toEqual(expected);
      expect(report.keys[0]!.top.some((group) => group.key.device_id === 1)).toBe(true);

      const cleaned = await applyClean(test.database, { ...resolveCleanOptions(key, { mergeRule: [] }), mode: 'delete' });
      expect(cleaned.rowsRemoved).toBe(expected.surplus);
      // the oldest of device 1's pair, the Arabic-Indic spelling, is the one kept
      expect(await test.query(`select phone from intl_leads where device_id = 1`)).toEqual([{ phone: '٠٥٥٥١٢٣٤٥٦٧' }]);

      // a real unique index on the same expression: accepted (IMMUTABLE), and it rejects the ASCII spelling
      const added = await addConstraint(test.database, { key });
      expect(added.outcome).toBe('created');
      expect((await uniqueIndexesOf(test, 'intl_leads')).find((index) => index.name === added.name)?.valid).toBe(true);
      await expect(test.query(`insert into intl_leads (device_id, phone, created_at) values (1, '05551234567', now())`)).rejects.toMatchObject({
        code: '23505',
      });

      const upsert = await planUpsert(test.database, { key, onDuplicate: 'skip', insertColumns: ['device_id', 'phone', 'created_at'] });
      const outcome = async (values: unknown[]) => (await runPrinted<{ outcome: string }>(test.database, upsert.sql, values)).map((row) => row.outcome);
      expect(await outcome([1, '05551234567', '2026-02-01'])).toEqual(['existed']);
      expect(await outcome([6, '٠٥٥٥١٢٣٤٥٦٩', '2026-02-01'])).toEqual(['inserted']);
      expect(await outcome([6, '05551234569', '2026-02-01'])).toEqual(['existed']);
    });
  }
});
