import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyClean } from '../../src/core/clean/apply-clean.js';
import { resolveCleanOptions } from '../../src/cli/clean-flags.js';
import type { CleanOptions } from '../../src/core/clean/clean-types.js';
import { restoreRun } from '../../src/core/clean/restore.js';
import { loadLeadTable } from '../../src/core/lead-table.js';
import { resolveKeys } from '../../src/keys/resolve-key.js';
import { CITUS_URL, openCitusDatabase, seedReference } from '../support/citus.js';
import { sqlOracle } from '../support/oracle.js';
import { PLAIN_KEY_SETTINGS } from '../support/table-facts.js';
import type { TestDatabase } from '../support/test-database.js';

/**
 * clean and restore on a Citus reference table (a full copy on every node):
 * the README says it behaves as on one server. Every figure is checked
 * against SQL written by hand and run on the coordinator.
 */
describe.skipIf(!CITUS_URL)('clean and restore on a Citus reference table (cluster)', () => {
  let test: TestDatabase;

  beforeAll(async () => {
    test = await openCitusDatabase();
  });
  afterAll(async () => test?.close());

  async function options(table: string, preset: string, overrides: Partial<CleanOptions> = {}): Promise<CleanOptions> {
    const lead = await loadLeadTable(test.database.db, { table, idColumn: 'id', createdColumn: 'created_at' });
    const [key] = resolveKeys(lead, [preset], PLAIN_KEY_SETTINGS).keys;
    return { ...resolveCleanOptions(key!, { mergeRule: [] }), batchSize: 50, ...overrides };
  }

  const checksum = async (table: string) =>
    (await test.query<{ md5: string }>(`select md5(string_agg(t::text, ',' order by id)) as md5 from ${table} t`))[0]!.md5;

  it.each([
    ['delete', 'ref_del'],
    ['merge', 'ref_merge'],
  ] as const)('device-phone, %s mode: exactly the surplus, every activity to its keeper, restore puts both back', async (mode, table) => {
    const fixture = await seedReference(test, table, 1500);
    const child = fixture.childTable;
    const before = { leads: await checksum(table), activities: await checksum(child) };
    const oracle = await sqlOracle(test, table, ['device_id', 'phone'], true);
    expect(oracle.surplus).toBeGreaterThan(0);
    // each activity's lead after the clean, by hand: a removed lead's activities go to the oldest row of its group (then lowest id)
    const expected = await test.query(`
      with keepers as (select id, first_value(id) over (partition by device_id, phone order by created_at asc nulls last, id asc) as keeper
                       from ${table} where device_id is not null and phone is not null)
      select a.id::text as id, coalesce(k.keeper, a.lead_id)::text as lead_id from ${child} a left join keepers k on k.id = a.lead_id order by a.id`);

    const run = await applyClean(test.database, await options(table, 'device-phone', { mode }));
    expect(run.status).toBe('done');
    expect(run.rowsRemoved).toBe(oracle.surplus);
    expect(await sqlOracle(test, table, ['device_id', 'phone'], true)).toMatchObject({ surplus: 0 });
    expect(await test.query(`select a.id::text as id, a.lead_id::text as lead_id from ${child} a order by a.id`)).toEqual(expected);

    const restored = await restoreRun(test.database, { runId: run.runId, archiveSchema: 'lead_dedupe', execute: true });
    expect(restored.rowsReinserted).toBe(oracle.surplus);
    expect({ leads: await checksum(table), activities: await checksum(child) }).toEqual(before);
  });
});
