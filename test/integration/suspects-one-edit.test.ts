import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOneKey } from '../../src/core/lead-table.js';
import { collectSuspects } from '../../src/suspects/suspects.js';
import { seed } from '../../src/seed/seed.js';
import { DEFAULT_SUSPECTS } from '../../src/suspects/model.js';
import { TEST_TARGETS, type TestDatabase } from '../support/test-database.js';

/**
 * The opt-in "phone within one edit" block (no longer a default one): with a
 * threshold no pair can miss, every candidate pair the exact key does not
 * group is reported, so the reported pairs are the block's candidates. The
 * oracle, a brute-force self-join in this test: two rows are candidates when
 * their phones' digits are equal, or equal once one character is dropped
 * from one or from each (the deletion neighbourhood's definition).
 */
const KEY_SETTINGS = { columnMap: {}, normalize: {}, defaultCountry: null, nullsEqual: false, customKeys: [] };
const TABLE = { table: 'leads', idColumn: 'id', createdColumn: null };

const ORACLE = `with d as (select id, device_id, phone, nullif(regexp_replace(phone, '[^0-9]', '', 'g'), '') as v from leads),
variants as (select id, v as w from d where v is not null
             union select id, substr(v, 1, i - 1) || substr(v, i + 1) from d, generate_series(1, length(v)) as i where v is not null)
select p.a::text as a, p.b::text as b
from (select distinct x.id as a, y.id as b
      from variants as x join variants as y on x.w = y.w and x.id < y.id
      join d as dx on dx.id = x.id join d as dy on dy.id = y.id
      where not (dx.device_id = dy.device_id and dx.phone = dy.phone)) as p
order by p.a, p.b`;

describe.each(TEST_TARGETS.filter((t) => t.available))('suspects one-edit phone block on $label', (target) => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await target.open();
  });
  afterAll(async () => test?.close());

  it('pairs exactly the rows whose phones are one deletion-neighbourhood key apart, counted (an upper bound) first', async () => {
    await seed(test.database, { table: 'leads', rows: 2_000, scenario: 'near-duplicates', randomState: 3, replace: true });
    const key = await loadOneKey(test.database.db, TABLE, KEY_SETTINGS, 'device-phone', 'suspects');
    let counted: number | null = null;
    const report = await collectSuspects(
      test.database,
      {
        key,
        config: { ...DEFAULT_SUSPECTS, blocks: [{ name: 'phone within one edit', columns: ['phone'], oneEdit: true }], threshold: -1000 },
        columnMap: {},
        defaultCountry: null,
        maxPairs: null,
        truthColumn: null,
      },
      (counts) => {
        counted = counts[0]!.pairs;
      },
    );
    const expected = await test.query<{ a: string; b: string }>(ORACLE);
    expect(expected.length).toBeGreaterThan(20);
    const reported = report.groups
      .flatMap((g) => g.pairs)
      .map((p) => ({ a: p.a, b: p.b }))
      .sort((x, y) => Number(x.a) - Number(y.a) || Number(x.b) - Number(y.b));
    expect(reported).toEqual(expected);
    expect(report.compared).toBe(expected.length);
    expect(counted).toBeGreaterThanOrEqual(report.candidates);
    // a pair one digit apart says so
    expect(report.groups.some((g) => g.pairs.some((p) => p.reasons.startsWith('phone one digit apart: ')))).toBe(true);
  }, 300_000);
});
