import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLeadTable } from '../../src/core/lead-table.js';
import { resolveKeys, type KeySettings } from '../../src/keys/resolve-key.js';
import { canScanFromExport } from '../../src/scan/scan-from-export.js';
import { seed } from '../../src/seed/seed.js';
import { exportAndPlainReports, withoutTime } from '../support/details-reports.js';
import { sqlOracle } from '../support/oracle.js';
import { PLAIN_KEY_SETTINGS } from '../support/table-facts.js';
import { TEST_TARGETS, type TestDatabase } from '../support/test-database.js';

/**
 * `scan --details` takes the report's figures from the export's own rows
 * (scan/scan-from-export.ts). The report must be the plain scan's, field for
 * field (same figures, same top groups in the same order, ties included), and
 * equal a hand-written oracle; the CSV must be the rows a hand-written join
 * of the table with its duplicate groups returns.
 */
describe.each(TEST_TARGETS.filter((t) => t.available))('scan --details report from the export on $label', (target) => {
  let test: TestDatabase;

  beforeAll(async () => {
    test = await target.open();
    await seed(test.database, { table: 'leads', rows: 3000, scenario: 'production', replace: false });
    // Ties: five groups of 3 and three of 2, so a top of 2, 3 or 6 cuts through a tie; NULL phones that group only
    // when NULLs are equal; a NULL created time (ranked last, left out of first/last); names that need CSV quoting.
    await test.query(`create table tied (id bigint primary key, device_id int, phone text, created_at timestamptz, name text)`);
    await test.query(`insert into tied values
      (1, 9, 'b', '2026-01-01 10:00+00', 'plain'), (2, 9, 'b', '2026-01-02 10:00+00', 'with, comma'), (3, 9, 'b', null, 'with "quote"'),
      (4, 1, 'z', '2026-02-01 10:00+00', E'two\\nlines'), (5, 1, 'z', '2026-02-01 10:00+00', '"'), (6, 1, 'z', '2026-01-01 09:00+00', ''),
      (7, 5, 'a', '2026-03-01 10:00+00', null), (8, 5, 'a', '2026-03-02 10:00+00', ','), (9, 5, 'a', '2026-03-03 10:00+00', E'\\r'),
      (10, 1, 'a', '2026-04-01 10:00+00', 'x'), (11, 1, 'a', '2026-04-01 10:00+00', 'y'), (12, 1, 'a', '2026-04-01 10:00+00', 'z'),
      (13, 2, null, '2026-05-01 10:00+00', 'n1'), (14, 2, null, '2026-05-02 10:00+00', 'n2'), (15, 2, null, null, 'n3'),
      (16, 3, 'q', '2026-06-01 10:00+00', 'p'), (17, 3, 'q', '2026-06-02 10:00+00', 'p'),
      (18, 0, 'q', '2026-06-01 10:00+00', 'p'), (19, 0, 'q', '2026-06-02 10:00+00', 'p'),
      (20, 7, 'é', '2026-07-01 10:00+00', 'ünïcode'), (21, 7, 'é', '2026-07-02 10:00+00', 'ü'),
      (22, 8, 'single', '2026-07-01 10:00+00', 'alone')`);
  }, 120_000);
  afterAll(async () => test?.close());

  async function bothReports(table: string, settings: Partial<KeySettings>, top: number) {
    const leadTable = await loadLeadTable(test.database.db, { table, idColumn: 'id', createdColumn: 'created_at' });
    const { keys } = resolveKeys(leadTable, ['device-phone'], { ...PLAIN_KEY_SETTINGS, ...settings });
    const options = { table: leadTable, keys, skippedKeys: [], top };
    expect(await canScanFromExport(test.database, options)).toBe(true);
    return exportAndPlainReports(test.database, options);
  }

  /** The top groups by hand: size, then key, ascending with NULLs last; the five oldest ids, created NULLs last. */
  async function topOracle(table: string, nullsEqual: boolean, top: number) {
    const where = nullsEqual ? '' : 'where device_id is not null and phone is not null';
    return test.query<{ device_id: number | null; phone: string | null; n: string; first_at: string | null; last_at: string | null; ids: string[] }>(`
      select device_id, phone, count(*) as n, min(created_at)::text as first_at, max(created_at)::text as last_at,
             (array_agg(id::text order by created_at nulls last, id))[1:5] as ids
      from ${table} ${where} group by device_id, phone having count(*) > 1
      order by count(*) desc, device_id, phone limit ${top}`);
  }

  for (const table of ['tied', 'leads']) {
    for (const nullsEqual of [false, true]) {
      for (const top of [0, 2, 3, 6, 100]) {
        it(`${table}, NULLs ${nullsEqual ? 'equal' : 'distinct'}, top ${top}: the plain scan's report, and the oracle's`, async () => {
          const { fromExport, plain, rows } = await bothReports(table, { nullsEqual }, top);
          expect(withoutTime(fromExport)).toEqual(withoutTime(plain));
          const key = fromExport.keys[0]!;
          const figures = await sqlOracle(test, table, ['device_id', 'phone'], !nullsEqual);
          expect({ groups: key.groups, rowsInGroups: key.rowsInGroups, surplus: key.surplus, largestGroup: key.largestGroup }).toEqual(figures);
          expect(rows['device-phone']).toBe(figures.rowsInGroups);
          const oracle = await topOracle(table, nullsEqual, top);
          expect(key.top).toEqual(
            oracle.map((group) => ({
              key: { device_id: group.device_id, phone: group.phone },
              count: Number(group.n),
              firstCreated: group.first_at,
              lastCreated: group.last_at,
              ids: group.ids,
            })),
          );
        });
      }
    }
  }

  it('ties really are cut by the top: the oracle has groups of the last listed size left out', async () => {
    const all = await topOracle('tied', false, 100);
    const three = all.slice(0, 3);
    expect(all.filter((group) => group.n === three[2]!.n).length).toBeGreaterThan(1);
    expect(all.length).toBeGreaterThan(6);
  });

  it('the CSV holds the rows a hand-written join of the table and its groups returns, in its order', async () => {
    const { csv } = await bothReports('tied', { nullsEqual: false }, 3);
    const records = parse(csv, { columns: true }) as Record<string, string>[];
    const oracle = await test.query<Record<string, string | null>>(`
      with g as (select device_id, phone, count(*) as n from tied where device_id is not null and phone is not null
                 group by device_id, phone having count(*) > 1)
      select g.n::text as group_size,
             (row_number() over (partition by g.device_id, g.phone order by t.created_at nulls last, t.id))::text as rank_in_group,
             t.id::text as id, t.name
      from tied t join g on g.device_id = t.device_id and g.phone = t.phone
      order by g.device_id, g.phone, t.created_at nulls last, t.id`);
    expect(records.map((r) => ({ group_size: r.group_size, rank_in_group: r.rank_in_group, id: r.id, name: r.name }))).toEqual(
      oracle.map((r) => ({ ...r, name: r.name ?? '' })),
    );
  });

  it('is not used without a unique index on the id column (the top groups are read back by id)', async () => {
    await test.query('create table no_unique as select * from tied');
    const leadTable = await loadLeadTable(test.database.db, { table: 'no_unique', idColumn: 'id', createdColumn: 'created_at' });
    const { keys } = resolveKeys(leadTable, ['device-phone'], PLAIN_KEY_SETTINGS);
    expect(await canScanFromExport(test.database, { table: leadTable, keys, skippedKeys: [], top: 3 })).toBe(false);
  });
});
