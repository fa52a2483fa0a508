import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forEachBatch } from '../../src/db/cursor.js';
import { TEST_TARGETS, type TestDatabase } from '../support/test-database.js';

/** forEachBatch keeps one FETCH ahead of its callback: every row once, in order, and a callback's failure ends the stream cleanly. */
describe.each(TEST_TARGETS.filter((t) => t.available))('forEachBatch on $label', (target) => {
  let test: TestDatabase;

  beforeAll(async () => {
    test = await target.open();
    await test.exec('create table cursor_rows as select g as n from generate_series(1, 2345) as g;\n');
  });
  afterAll(async () => {
    await test?.exec('drop table if exists cursor_rows;\n');
    await test?.close();
  });

  // schema-qualified: the tool's sessions pin their search_path
  const query = sql<{ n: number }>`select n from public.cursor_rows order by n desc`;

  it('hands over every row once, in the query order, in batches of the size asked, while the next batch is fetched', async () => {
    const oracle = (await test.query<{ n: number }>('select n from cursor_rows order by n desc')).map((row) => Number(row.n));
    const seen: number[] = [];
    const sizes: number[] = [];
    await forEachBatch(test.database.db, query, 500, async (rows) => {
      sizes.push(rows.length);
      // a slow writer: the FETCH sent ahead must neither be lost nor overtake this batch
      await new Promise((resolve) => setTimeout(resolve, 5));
      seen.push(...rows.map((row) => Number(row.n)));
    });
    expect(seen).toEqual(oracle);
    expect(sizes).toEqual([500, 500, 500, 500, 345]);
  });

  it("a callback's error is the stream's error; the FETCH sent ahead is rolled back with the transaction, and the next stream reads every row", async () => {
    let batches = 0;
    const failure = new Error('disk full');
    await expect(
      forEachBatch(test.database.db, query, 100, async () => {
        batches++;
        if (batches === 3) throw failure;
      }),
    ).rejects.toBe(failure);
    expect(batches).toBe(3);
    // a new stream declares the same cursor name and reads every row
    let rows = 0;
    await forEachBatch(test.database.db, query, 1000, async (batch) => {
      rows += batch.length;
    });
    expect(rows).toBe(Number((await test.query<{ n: string }>('select count(*) as n from cursor_rows'))[0]!.n));
  });
});
