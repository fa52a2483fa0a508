import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOneKey } from '../../src/core/lead-table.js';
import { collectSuspects, type SuspectsReport } from '../../src/suspects/suspects.js';
import { UsageError } from '../../src/errors.js';
import { seed } from '../../src/seed/seed.js';
import { DEFAULT_SUSPECTS } from '../../src/suspects/model.js';
import { TEST_TARGETS, type TestDatabase } from '../support/test-database.js';

/**
 * suspects on the labelled seed (seed --scenario near-duplicates), scored
 * against its ground truth by this test's own SQL: the pairs of rows of one
 * person that the exact key (device_id, phone as stored) does not group, as
 * a self-join; the reported pairs that are one person, joined back to the
 * table. The tool's own evaluation must agree with these figures.
 */
const KEY_SETTINGS = { columnMap: {}, normalize: {}, defaultCountry: null, nullsEqual: false, customKeys: [] };
const TABLE = { table: 'leads', idColumn: 'id', createdColumn: null };

/** The default configuration on `table` (the seeded leads, scored against their ground truth, unless said otherwise). */
async function run(test: TestDatabase, options: { table?: string; truthColumn?: string | null } = {}): Promise<SuspectsReport> {
  const key = await loadOneKey(test.database.db, { ...TABLE, table: options.table ?? TABLE.table }, KEY_SETTINGS, 'device-phone', 'suspects');
  return collectSuspects(test.database, {
    key,
    config: DEFAULT_SUSPECTS,
    columnMap: {},
    defaultCountry: null,
    maxPairs: null,
    truthColumn: options.truthColumn === undefined ? 'true_person_id' : options.truthColumn,
  });
}

const pairsOf = (report: SuspectsReport) => report.groups.flatMap((group) => group.pairs);

/** The oracle: truth pairs, and of the reported pairs how many are one person and how many the key already groups. */
async function oracle(test: TestDatabase, report: SuspectsReport) {
  const truth = await test.query<{ n: string }>(`select count(*) as n from leads as x join leads as y on x.true_person_id = y.true_person_id and x.id < y.id
where not (x.device_id = y.device_id and x.phone = y.phone) or x.phone is null or y.phone is null`);
  const as = `'{${pairsOf(report)
    .map((p) => p.a)
    .join(',')}}'::bigint[]`;
  const bs = `'{${pairsOf(report)
    .map((p) => p.b)
    .join(',')}}'::bigint[]`;
  const hits = await test.query<{ same: string; caught: string; n: string }>(`select count(*) filter (where x.true_person_id = y.true_person_id) as same,
       count(*) filter (where x.device_id = y.device_id and x.phone = y.phone) as caught, count(*) as n
from unnest(${as}, ${bs}) as p (a, b) join leads as x on x.id = p.a join leads as y on y.id = p.b`);
  const same = Number(hits[0]!.same);
  return {
    truth: Number(truth[0]!.n),
    same,
    caught: Number(hits[0]!.caught),
    joined: Number(hits[0]!.n),
    precision: same / pairsOf(report).length,
    recall: same / Number(truth[0]!.n),
  };
}

function expectAgreement(report: SuspectsReport, measured: Awaited<ReturnType<typeof oracle>>) {
  expect(measured.joined).toBe(pairsOf(report).length);
  expect(report.pairCount).toBe(measured.joined);
  expect(measured.caught).toBe(0);
  expect(report.evaluation?.pairs.truth).toBe(measured.truth);
  expect(report.evaluation?.pairs.truePositives).toBe(measured.same);
}

describe.each(TEST_TARGETS.filter((t) => t.available))('suspects on $label', (target) => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await target.open();
  });
  afterAll(async () => test?.close());

  const server = target.label === 'postgres';

  it(server
    ? 'the default configuration at 100k labelled rows: pair precision ≥ 0.98, recall ≥ 0.95 (built-in similarity, no extension)'
    : 'the default configuration at 5k labelled rows (random state 2): precision ≥ 0.98, recall ≥ 0.95', async () => {
    await seed(test.database, { table: 'leads', rows: server ? 100_000 : 5_000, scenario: 'near-duplicates', randomState: server ? 0 : 2, replace: true });
    const report = await run(test);
    const measured = await oracle(test, report);
    expectAgreement(report, measured);
    expect(report.functions.nameSimilarity).toBe('built-in trigram similarity');
    expect(measured.precision).toBeGreaterThanOrEqual(0.98);
    expect(measured.recall).toBeGreaterThanOrEqual(0.95);
    // every reported pair says why; a group is its pairs' rows, named by its smallest id, each row in one group only
    const seen = new Set<string>();
    for (const group of report.groups) {
      for (const pair of group.pairs) {
        expect(pair.score).toBeGreaterThanOrEqual(DEFAULT_SUSPECTS.threshold);
        expect(pair.reasons).not.toBe('');
      }
      const ids = [...new Set(group.pairs.flatMap((pair) => [pair.a, pair.b]))].sort((x, y) => Number(x) - Number(y));
      expect(group.ids).toEqual(ids);
      expect(group.group).toBe(ids[0]);
      expect(Object.keys(group.rows).sort((x, y) => Number(x) - Number(y))).toEqual(ids);
      for (const id of ids) expect(seen.has(id)).toBe(false);
      for (const id of ids) seen.add(id);
    }
    expect(report.groupCount).toBe(report.groups.length);
  }, 900_000);

  it('refuses above --max-pairs with the counts, before comparing', async () => {
    const key = await loadOneKey(test.database.db, TABLE, KEY_SETTINGS, 'device-phone', 'suspects');
    const error = await collectSuspects(test.database, {
      key,
      config: { ...DEFAULT_SUSPECTS, blocks: [{ name: 'same device', columns: ['device_id'] }] },
      columnMap: {},
      defaultCountry: null,
      maxPairs: 1000,
      truthColumn: null,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    const [expected] = await test.query<{ n: string }>('select sum(n * (n - 1) / 2) as n from (select count(*) as n from leads group by device_id) as g');
    expect((error as Error).message).toContain(`same device: ${Number(expected!.n)}`);
    expect((error as Error).message).toMatch(/more than --max-pairs 1000; .*nothing was compared/);
  });

  it('keeps every row of a group when its ids are text such as __proto__ (the rows are keyed by id)', async () => {
    await test.exec(`drop table if exists text_ids;
create table text_ids (id text primary key, device_id text, phone text, email text, name text, created_at timestamptz);
insert into text_ids values ('__proto__', 'd1', '+60123456789', 'ana@example.com', 'Ana Lima', '2026-01-01 10:00+00'), ('constructor', 'd2', '+60123456789', 'ana@example.com', 'Ana Lima', '2026-01-01 11:00+00');`);
    const report = await run(test, { table: 'text_ids', truthColumn: null });
    expect(report.groups.map((group) => group.ids)).toEqual([['__proto__', 'constructor']]);
    const rows = JSON.parse(JSON.stringify(report.groups[0]!.rows)) as Record<string, { device_id: string }>;
    expect(Object.keys(rows).sort()).toEqual(['__proto__', 'constructor']);
    expect(Object.getOwnPropertyDescriptor(rows, '__proto__')?.value.device_id).toBe('d1');
  });

  it.runIf(server)(
    'with pg_trgm, fuzzystrmatch and unaccent installed, another random state (20k rows): the same targets',
    async () => {
      await test.exec('create extension if not exists pg_trgm;\ncreate extension if not exists fuzzystrmatch;\ncreate extension if not exists unaccent;\n');
      await seed(test.database, { table: 'leads', rows: 20_000, scenario: 'near-duplicates', randomState: 1, replace: true });
      const report = await run(test);
      expect(report.functions).toEqual({ nameSimilarity: 'pg_trgm similarity()', accents: 'unaccent()' });
      const measured = await oracle(test, report);
      expectAgreement(report, measured);
      expect(measured.precision).toBeGreaterThanOrEqual(0.98);
      expect(measured.recall).toBeGreaterThanOrEqual(0.95);
    },
    600_000,
  );
});
