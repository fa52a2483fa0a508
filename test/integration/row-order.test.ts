import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireAgeOrder } from '../../src/clean/keeper-order.js';
import { loadLeadTable } from '../../src/core/lead-table.js';
import { scan } from '../../src/scan/scan.js';
import { UsageError } from '../../src/errors.js';
import { resolveKeys } from '../../src/keys/resolve-key.js';
import { renderScanTable } from '../../src/render/scan/table.js';
import { PLAIN_KEY_SETTINGS } from '../support/table-facts.js';
import { TEST_TARGETS, type TestDatabase } from '../support/test-database.js';

/**
 * "Oldest first" without a created column (issue 26 item 14): a uuid id orders rows, but not by
 * age, so keeping the oldest or newest is refused and scan says its ids are in arbitrary order;
 * a bigserial id or a created column keep their meaning.
 */
describe.each(TEST_TARGETS.filter((t) => t.available))('row order by id on $label', (target) => {
  let test: TestDatabase;

  beforeAll(async () => {
    test = await target.open();
    // 30 rows in 10 groups of 3 (device_id, phone), once under each kind of id.
    const rows = `select g % 10 as device_id, '60123' || (g % 10) as phone from generate_series(1, 30) as g`;
    await test.exec(`
      create table uuid_leads (id uuid primary key default gen_random_uuid(), device_id int, phone text);
      insert into uuid_leads (device_id, phone) ${rows};
      create table serial_leads (id bigserial primary key, device_id int, phone text);
      insert into serial_leads (device_id, phone) ${rows};
      create table dated_uuid_leads (id uuid primary key default gen_random_uuid(), device_id int, phone text, created_at timestamptz default now());
      insert into dated_uuid_leads (device_id, phone) ${rows};
    `);
  });
  afterAll(async () => test?.close());

  const load = async (table: string) => {
    const leadTable = await loadLeadTable(test.database.db, { table, idColumn: 'id', createdColumn: null }, 'clean');
    return { leadTable, key: resolveKeys(leadTable, ['device_id,phone'], PLAIN_KEY_SETTINGS).keys[0]! };
  };
  const refusal = (fn: () => void) => {
    try {
      fn();
      return 'allowed';
    } catch (error) {
      return error instanceof UsageError ? error.message : `unexpected ${String(error)}`;
    }
  };

  it('a uuid id without a created column: oldest/newest and merge are refused, most-complete delete is not', async () => {
    const [{ type }] = (await test.query<{ type: string }>(
      `select format_type(atttypid, atttypmod) as type from pg_attribute where attrelid = 'uuid_leads'::regclass and attname = 'id'`,
    )) as [{ type: string }];
    expect(type).toBe('uuid');
    const { leadTable } = await load('uuid_leads');
    expect(refusal(() => requireAgeOrder({ keep: 'oldest', mode: 'delete' }, leadTable))).toBe(
      '--keep oldest needs rows ordered by age, but no created_at column, and id is uuid, whose order says nothing about age: ' +
        'the kept row would be arbitrary; name a date/time column with --created-column, or use --keep most-complete --mode delete',
    );
    expect(refusal(() => requireAgeOrder({ keep: 'newest', mode: 'merge' }, leadTable))).toMatch(/^--keep newest needs rows ordered by age/);
    expect(refusal(() => requireAgeOrder({ keep: 'most-complete', mode: 'merge' }, leadTable))).toMatch(/^--mode merge .* needs rows ordered by age/);
    expect(refusal(() => requireAgeOrder({ keep: 'most-complete', mode: 'delete' }, leadTable))).toBe('allowed');
  });

  it('a bigserial id, or a uuid id with a created column, orders by age: allowed', async () => {
    for (const table of ['serial_leads', 'dated_uuid_leads']) {
      const { leadTable } = await load(table);
      expect({ table, result: refusal(() => requireAgeOrder({ keep: 'oldest', mode: 'merge' }, leadTable)) }).toEqual({ table, result: 'allowed' });
    }
  });

  it('scan says the ids are in arbitrary order on the uuid table only, and counts the same groups', async () => {
    const [oracle] = await test.query<{ groups: string }>(
      'select count(*)::text as groups from (select 1 from uuid_leads group by device_id, phone having count(*) > 1) g',
    );
    const reports = [];
    for (const table of ['uuid_leads', 'serial_leads', 'dated_uuid_leads']) {
      const { leadTable, key } = await load(table);
      reports.push(await scan(test.database, { table: leadTable, keys: [key], top: 3 }));
    }
    const [uuid, serial, dated] = reports as [(typeof reports)[0], (typeof reports)[0], (typeof reports)[0]];
    expect(uuid.keys[0]!.groups).toBe(Number(oracle!.groups));
    expect(uuid.rowOrder).toEqual({ column: 'id', arbitrary: true, reason: 'no created_at column, and id is uuid' });
    expect(serial.rowOrder).toEqual({ column: 'id', arbitrary: false, reason: null });
    expect(dated.rowOrder).toEqual({ column: 'created_at', arbitrary: false, reason: null });
    const table = renderScanTable(uuid, 200);
    expect(table).toContain('ids (arbitrary order)');
    expect(table).toContain('ids in arbitrary order: no created_at column, and id is uuid, so "oldest first" means nothing here');
    expect(renderScanTable(serial, 200)).toContain('ids (oldest first)');
    expect(renderScanTable(serial, 200)).not.toContain('arbitrary');
  });
});
