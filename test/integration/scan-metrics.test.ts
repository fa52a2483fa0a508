import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLeadTable } from '../../src/core/lead-table.js';
import { scan } from '../../src/scan/scan.js';
import { resolveKeys } from '../../src/keys/resolve-key.js';
import { renderScanMetrics } from '../../src/render/scan/prometheus.js';
import { seed } from '../../src/seed/seed.js';
import { sqlOracle } from '../support/oracle.js';
import { parseMetrics, SCAN_GAUGES } from '../support/prometheus.js';
import { PLAIN_KEY_SETTINGS } from '../support/table-facts.js';
import { TEST_TARGETS, type TestDatabase } from '../support/test-database.js';

/** A table whose name holds what the exposition format escapes in label values: a backslash and double quotes. */
const ODD_TABLE = 'Leads "2024" \\ copy';
/** The same name as SQL and --table write it. */
const QUOTED = '"Leads ""2024"" \\ copy"';

describe.each(TEST_TARGETS.filter((t) => t.available))('scan metrics on $label', (target) => {
  let test: TestDatabase;

  beforeAll(async () => {
    test = await target.open();
    await seed(test.database, { table: 'leads', rows: 3000, scenario: 'production', replace: false });
    await test.exec(`create table ${QUOTED} as select * from leads;\n`);
  });
  afterAll(async () => test?.close());

  it('the metrics of a real scan parse, and each figure equals a hand-written GROUP BY', async () => {
    const table = await loadLeadTable(test.database.db, { table: QUOTED, idColumn: 'id', createdColumn: 'created_at' });
    const { keys, skipped } = resolveKeys(table, ['device-phone', 'user-phone', 'device_id'], PLAIN_KEY_SETTINGS);
    const report = await scan(test.database, { table, keys, skippedKeys: skipped, top: 3 });
    const succeededAt = new Date();
    const metrics = parseMetrics(await renderScanMetrics(report, succeededAt));
    expect(metrics.families.map((family) => family.name)).toEqual(SCAN_GAUGES);
    const labelTable = `public.${ODD_TABLE}`;
    const [count] = await test.query<{ n: string }>(`select count(*) as n from ${QUOTED}`);
    for (const [key, columns] of [
      ['device-phone', ['device_id', 'phone']],
      ['user-phone', ['user_id', 'phone']],
      ['device_id', ['device_id']],
    ] as const) {
      const at = (family: string) => metrics.value(family, { table: labelTable, key });
      const oracle = await sqlOracle(test, QUOTED, [...columns], true);
      expect(oracle.surplus, key).toBeGreaterThan(0);
      expect(
        {
          groups: at('lead_dedupe_duplicate_groups'),
          rowsInGroups: at('lead_dedupe_rows_in_groups'),
          surplus: at('lead_dedupe_surplus_rows'),
          largestGroup: at('lead_dedupe_largest_group'),
        },
        key,
      ).toEqual(oracle);
      expect(at('lead_dedupe_table_rows')).toBe(Number(count!.n));
      expect(at('lead_dedupe_scan_duration_seconds')).toBe(report.durationMs / 1000);
      expect(at('lead_dedupe_last_success_timestamp_seconds')).toBe(succeededAt.getTime() / 1000);
    }
  });
});
