import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLeadTable } from '../../src/core/lead-table.js';
import { resolveKeys, type KeySettings } from '../../src/keys/resolve-key.js';
import { scanSince } from '../../src/scan/since/scan-since.js';
import { CITUS_URL, openCitusDatabase } from '../support/citus.js';
import { SINCE, SINCE_KEY_CASES, sinceFigures, sinceOracle, WATCH_TABLE } from '../support/since-oracle.js';
import { PLAIN_KEY_SETTINGS } from '../support/table-facts.js';
import type { TestDatabase } from '../support/test-database.js';

/**
 * scan --since on a Citus cluster: the same figures as a hand-written
 * whole-table oracle run on the coordinator, for a table distributed by
 * device_id (a key with the distribution column; its rows with a NULL
 * device_id left out, which Citus refuses) and then a reference table.
 */
describe.skipIf(!CITUS_URL)('scan --since on Citus (cluster)', () => {
  let test: TestDatabase;

  beforeAll(async () => {
    test = await openCitusDatabase();
    await test.exec(WATCH_TABLE);
  }, 120_000);
  afterAll(async () => test?.close());

  async function figures(settings: Partial<KeySettings>) {
    const table = await loadLeadTable(test.database.db, { table: 'watch', idColumn: 'id', createdColumn: 'created_at' });
    const keys = resolveKeys(table, ['device_id,phone'], { ...PLAIN_KEY_SETTINGS, ...settings }).keys;
    const { report } = await scanSince(test.database, { table, keys, top: 10, windowColumns: ['created_at'], since: { kind: 'at', at: SINCE } });
    return sinceFigures(report.keys[0]!);
  }

  for (const [placement, distribute] of [
    // Citus refuses NULL in the distribution column, and a unique constraint without it
    [
      'distributed by device_id',
      "delete from watch where device_id is null; alter table watch drop constraint watch_pkey, add primary key (device_id, id); select create_distributed_table('watch', 'device_id')",
    ],
    ['a reference table', "select undistribute_table('watch'); select create_reference_table('watch')"],
  ] as const) {
    it(`${placement}: every key form equals the oracle`, async () => {
      await test.exec(`${distribute};`);
      for (const { label, settings, expressions, nullsEqual } of SINCE_KEY_CASES) {
        expect(await figures(settings), label).toEqual(await sinceOracle(test, expressions, 'created_at', nullsEqual));
      }
    });
  }
});
