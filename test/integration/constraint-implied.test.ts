import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addConstraint } from '../../src/core/constraint/apply-add.js';
import { planConstraintAdd } from '../../src/core/constraint/plan-add.js';
import { constraintStatus } from '../../src/core/constraint/status.js';
import { planUpsert } from '../../src/core/constraint/upsert.js';
import { loadLeadTable } from '../../src/core/lead-table.js';
import { resolveKeys } from '../../src/keys/resolve-key.js';
import { seed } from '../../src/seed/seed.js';
import { dedupeDevicePhone, keyFor, plainSettings, runPrinted, uniqueIndexesOf } from '../support/constraint-fixtures.js';
import { TEST_TARGETS, type TestDatabase } from '../support/test-database.js';

/** Issue 10 item 10: a unique index on fewer of a key's columns already rejects the key's duplicates. */
describe.each(TEST_TARGETS.filter((t) => t.available))('a unique index on fewer columns protects a wider key, on $label', (target) => {
  let test: TestDatabase;

  beforeAll(async () => {
    test = await target.open();
    await seed(test.database, { table: 'leads', rows: 500, scenario: 'production', replace: true });
    await dedupeDevicePhone(test, 'leads');
    await test.query('create unique index leads_device_id_phone_key on leads (device_id, phone)');
  });
  afterAll(async () => test?.close());

  it('status: device-phone-niche is protected by the (device_id, phone) index; a NULLs-equal key is not (the index keeps NULLs distinct)', async () => {
    const table = await loadLeadTable(test.database.db, { table: 'leads', idColumn: 'id', createdColumn: 'created_at' });
    const keys = resolveKeys(table, ['device-phone', 'device-phone-niche', 'device-user-phone-niche'], plainSettings).keys;
    const status = await constraintStatus(test.database, { table, keys });
    expect(status.keys.map((k) => [k.key.name, k.protectedBy, k.impliedBy])).toEqual([
      ['device-phone', ['leads_device_id_phone_key'], []],
      ['device-phone-niche', [], ['leads_device_id_phone_key']],
      ['device-user-phone-niche', [], ['leads_device_id_phone_key']],
    ]);
    const nullsEqual = resolveKeys(table, ['device-phone-niche'], { ...plainSettings, nullsEqual: true }).keys;
    const strict = await constraintStatus(test.database, { table, keys: nullsEqual });
    expect(strict.keys[0]!.impliedBy).toEqual([]);
  });

  it('constraint add builds nothing (outcome implied) unless evenIfImplied', async () => {
    const key = await keyFor(test.database, 'leads', 'device-phone-niche');
    const before = await uniqueIndexesOf(test, 'leads');
    const result = await addConstraint(test.database, { key });
    expect(result).toMatchObject({ outcome: 'implied', buildMs: null });
    expect(result.existing?.name).toBe('leads_device_id_phone_key');
    expect(await uniqueIndexesOf(test, 'leads')).toEqual(before);
    const plan = await planConstraintAdd(test.database, { key, evenIfImplied: true });
    expect(plan.impliedBy).toBeNull();
    expect(plan.steps.map((step) => step.purpose)).toEqual(['build', 'attach']);
  });

  it('sql upsert targets the smaller index: the statement runs (no 42P10) and skips a row equal on device_id and phone', async () => {
    const key = await keyFor(test.database, 'leads', 'device-phone-niche');
    const plan = await planUpsert(test.database, { key, onDuplicate: 'skip', insertColumns: ['device_id', 'user_id', 'phone', 'niche'] });
    expect(plan.arbiters).toEqual(['leads_device_id_phone_key']);
    expect(plan.conflictColumns).toEqual(['device_id', 'phone']);
    const [first] = await runPrinted<{ id: string; outcome: string }>(test.database, plan.sql, [990001, 7, '60199000001', 'Property']);
    expect(first).toMatchObject({ outcome: 'inserted' });
    expect(await runPrinted(test.database, plan.sql, [990001, 8, '60199000001', 'Finance'])).toEqual([{ id: first!.id, outcome: 'existed' }]);
    expect(await test.query(`select count(*)::int as n from leads where device_id = 990001`)).toEqual([{ n: 1 }]);
  });
});
