import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyIndexAdd } from '../../src/core/key-index/apply-index.js';
import { dropKeyIndex } from '../../src/core/key-index/drop-index.js';
import { planIndexAdd } from '../../src/core/key-index/plan-index.js';
import { loadLeadTable } from '../../src/core/lead-table.js';
import { UsageError } from '../../src/errors.js';
import { resolveKeys, type KeySettings } from '../../src/keys/resolve-key.js';
import { PLAIN_KEY_SETTINGS } from '../support/table-facts.js';
import { TEST_TARGETS, type TestDatabase } from '../support/test-database.js';

/** The table's indexes as the catalog lists them: name → definition, validity. */
async function indexes(test: TestDatabase): Promise<Record<string, { definition: string; valid: boolean }>> {
  const rows = await test.query<{ name: string; definition: string; valid: boolean }>(`
    select c.relname as name, pg_get_indexdef(i.indexrelid) as definition, i.indisvalid as valid
    from pg_index i join pg_class c on c.oid = i.indexrelid where i.indrelid = 'leads'::regclass`);
  return Object.fromEntries(rows.map((row) => [row.name, { definition: row.definition, valid: row.valid }]));
}

describe.each(TEST_TARGETS.filter((t) => t.available))('index add|drop on $label', (target) => {
  let test: TestDatabase;

  beforeAll(async () => {
    test = await target.open();
    await test.exec(`create table leads (id int primary key, device_id int, phone text, created_at timestamptz);
      insert into leads select g, g % 50, '60' || (g % 70), now() from generate_series(1, 500) as g`);
  });
  afterAll(async () => test?.close());

  async function keyOf(settings: Partial<KeySettings> = {}) {
    const table = await loadLeadTable(test.database.db, { table: 'leads', idColumn: 'id', createdColumn: 'created_at' });
    return resolveKeys(table, ['device-phone'], { ...PLAIN_KEY_SETTINGS, ...settings }).keys[0]!;
  }

  it('dry run by default; --execute builds a plain index on exactly the key expressions; a second run finds it', async () => {
    const key = await keyOf();
    const planned = await applyIndexAdd(test.database, await planIndexAdd(test.database, { key }), false);
    expect(planned.outcome).toBe('planned');
    expect(await indexes(test)).not.toHaveProperty('leads_device_id_phone_idx');
    const created = await applyIndexAdd(test.database, await planIndexAdd(test.database, { key }), true);
    expect(created.outcome).toBe('created');
    const built = (await indexes(test)).leads_device_id_phone_idx!;
    expect(built.valid).toBe(true);
    expect(built.definition).toBe('CREATE INDEX leads_device_id_phone_idx ON public.leads USING btree (device_id, phone)');
    const again = await applyIndexAdd(test.database, await planIndexAdd(test.database, { key }), true);
    expect(again).toMatchObject({ outcome: 'exists', existing: 'leads_device_id_phone_idx', sql: [] });
  });

  it('a normalised key gets an expression index; drop refuses a unique index and drops its own (dry run first)', async () => {
    const key = await keyOf({ normalize: { phone: 'digits' } });
    await applyIndexAdd(test.database, await planIndexAdd(test.database, { key }), true);
    expect((await indexes(test)).leads_device_id_phone_digits_idx!.definition).toContain('lead_dedupe.digits_v1(phone)');
    const dry = await dropKeyIndex(test.database, { key, execute: false });
    expect(dry.outcome).toBe('planned');
    expect(await indexes(test)).toHaveProperty('leads_device_id_phone_digits_idx');
    expect((await dropKeyIndex(test.database, { key, execute: true })).outcome).toBe('dropped');
    expect(await indexes(test)).not.toHaveProperty('leads_device_id_phone_digits_idx');
    expect((await dropKeyIndex(test.database, { key, execute: true })).outcome).toBe('absent');
    await expect(dropKeyIndex(test.database, { key, name: 'leads_pkey', execute: true })).rejects.toThrow(
      /is a unique constraint: it enforces a key; lead-dedupe constraint drop leads_pkey/,
    );
    // a name held by an index that does not serve the key is refused, not reused
    await expect(planIndexAdd(test.database, { key, name: 'leads_pkey' })).rejects.toThrow(UsageError);
  });

  it.runIf(target.label === 'postgres')('drops the invalid leftover of a failed concurrent build first, then builds', async () => {
    const key = await keyOf();
    await dropKeyIndex(test.database, { key, execute: true });
    // a unique build over duplicates fails and leaves its index behind, invalid
    await expect(test.exec('create unique index concurrently leads_device_id_phone_idx on leads (device_id, phone)')).rejects.toThrow();
    expect((await indexes(test)).leads_device_id_phone_idx!.valid).toBe(false);
    const plan = await planIndexAdd(test.database, { key });
    expect(plan.invalidLeftover).toBe(true);
    const result = await applyIndexAdd(test.database, plan, true);
    expect(result).toMatchObject({ outcome: 'created', droppedInvalid: 'leads_device_id_phone_idx' });
    expect(result.sql).toEqual([
      'drop index concurrently if exists "public"."leads_device_id_phone_idx"',
      'create index concurrently "leads_device_id_phone_idx" on "public"."leads" ("device_id", "phone")',
    ]);
    const rebuilt = (await indexes(test)).leads_device_id_phone_idx!;
    expect(rebuilt).toEqual({ valid: true, definition: 'CREATE INDEX leads_device_id_phone_idx ON public.leads USING btree (device_id, phone)' });
  });
});
