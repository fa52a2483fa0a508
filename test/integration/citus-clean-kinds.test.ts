import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writePlanFiles } from '../../src/cli/plan-file.js';
import { UsageError } from '../../src/errors.js';
import { applyClean } from '../../src/clean/apply-clean.js';
import { resolveCleanOptions } from '../../src/cli/clean-flags.js';
import type { CleanOptions } from '../../src/clean/types.js';
import { restoreRun } from '../../src/clean/restore/restore.js';
import { loadLeadTable } from '../../src/core/lead-table.js';
import { resolveKeys } from '../../src/keys/resolve-key.js';
import { CITUS_URL, openCitusDatabase, seedDistributedByDevice, seedReference } from '../support/citus.js';
import { sqlOracle } from '../support/oracle.js';
import { PLAIN_KEY_SETTINGS } from '../support/table-facts.js';
import type { TestDatabase } from '../support/test-database.js';

/**
 * clean by the table's Citus kind: on a reference table (a full copy on
 * every node) clean and restore behave as on one server, every figure
 * checked against SQL written by hand and run on the coordinator; on a
 * distributed table a plan file is refused up front (exit 2), not with
 * Citus' 0A000.
 */
describe.skipIf(!CITUS_URL)('clean by Citus table kind (cluster)', () => {
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

  it('--plan-out and --plan-csv on a distributed table: exit 2 with one line naming the table, before any statement; no file is left', async () => {
    await seedDistributedByDevice(test, 'plan_dist', 300);
    const dir = mkdtempSync(join(tmpdir(), 'lead-dedupe-citus-plan-'));
    try {
      const clean = await options('plan_dist', 'device-phone');
      for (const paths of [{ plan: join(dir, 'plan.jsonl') }, { csv: join(dir, 'plan.csv') }]) {
        const flag = 'plan' in paths ? '--plan-out' : '--plan-csv';
        const refusal = writePlanFiles(test.database, clean, paths);
        await expect(refusal).rejects.toBeInstanceOf(UsageError);
        await expect(refusal).rejects.toThrow(
          new RegExp(
            `^clean ${flag} is not supported on a Citus distributed table \\(public\\.plan_dist\\) yet; use clean --key … \\(its dry run, then --execute\\); nothing was changed$`,
          ),
        );
      }
      expect(existsSync(join(dir, 'plan.jsonl')) || existsSync(join(dir, 'plan.csv'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
