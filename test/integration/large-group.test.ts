import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { applyClean } from '../../src/clean/apply-clean.js';
import { resolveCleanOptions } from '../../src/cli/clean-flags.js';
import type { CleanOptions } from '../../src/clean/types.js';
import { planClean } from '../../src/clean/preview.js';
import { restoreRun } from '../../src/clean/restore/restore.js';
import { loadLeadTable } from '../../src/core/lead-table.js';
import { resolveKeys } from '../../src/keys/resolve-key.js';
import { seed } from '../../src/seed/seed.js';
import { TEST_TARGETS, type TestDatabase } from '../support/test-database.js';

const COPIES = 30_000;
const BATCH_ROWS = 10_000;

/** Hand-written: under device-phone, keep oldest, every row but the first of its group goes. */
const VICTIMS = `select id, first_value(id) over w as keeper, row_number() over w as rn
  from leads where device_id is not null and phone is not null
  window w as (partition by device_id, phone order by created_at, id)`;

describe.each(TEST_TARGETS.filter((t) => t.available))('one very large group on $label', (target) => {
  let test: TestDatabase;

  beforeAll(async () => {
    test = await target.open();
  });
  afterAll(async () => test?.close());
  beforeEach(async () => {
    await test.exec('drop table if exists lead_notes;\n');
    await seed(test.database, { table: 'leads', rows: 2000, scenario: 'production', replace: true });
  });

  /**
   * `copies` webhook copies of one lead (device 777777), no email except on the newest copy, which has
   * the highest id; an unindexed child (lead_notes.lead_id) on every tenth copy.
   */
  async function addCopies(copies: number): Promise<void> {
    await test.exec(`insert into leads (device_id, user_id, phone, name, created_at)
  select 777777, 1, '60123456789', 'Copy ' || i, timestamptz '2026-01-01' + i * interval '1 second' from generate_series(1, ${copies}) as i;
update leads set email = 'newest@example.com' where id = (select max(id) from leads where device_id = 777777);
create table lead_notes (id serial primary key, lead_id bigint references leads (id), body text);
insert into lead_notes (lead_id, body) select id, 'note ' || id from leads where device_id = 777777 and id % 10 = 0;
`);
  }

  async function options(overrides: Partial<CleanOptions> = {}): Promise<CleanOptions> {
    const table = await loadLeadTable(test.database.db, { table: 'leads', idColumn: 'id', createdColumn: 'created_at' });
    const [key] = resolveKeys(table, ['device-phone'], { columnMap: {}, normalize: {}, defaultCountry: null, nullsEqual: false, customKeys: [] }).keys;
    return { ...resolveCleanOptions(key!, { mergeRule: [] }), ...overrides };
  }
  const n = async (text: string) => Number((await test.query<{ n: string }>(text))[0]!.n);
  const state = async () =>
    (
      await test.query<{ leads: string; notes: string }>(`select (select md5(string_agg(t::text, ',' order by id)) from leads t) as leads,
      (select md5(string_agg(t::text, ',' order by id)) from lead_notes t) as notes`)
    )[0]!;

  it('is removed in chunks of at most --batch-rows locked rows, merged from all its copies, re-pointed, and restored exactly', async () => {
    await addCopies(COPIES);
    const before = await state();
    const surplus = await n(`select count(*) as n from (${VICTIMS}) v where rn > 1`);
    const keeper = String(
      (await test.query<{ id: string }>(`select id::text as id from leads where device_id = 777777 order by created_at, id limit 1`))[0]!.id,
    );
    const notesToMove = await n(`select count(*) as n from lead_notes where lead_id in (select id from (${VICTIMS}) v where rn > 1)`);

    const plan = await planClean(test.database, await options({ batchRows: BATCH_ROWS }));
    expect(plan.unindexedChildKeys).toEqual([{ schema: 'public', table: 'lead_notes', column: 'lead_id', constraint: 'lead_notes_lead_id_fkey' }]);
    expect({ rows: plan.rowsToRemove, notes: plan.childRows.find((c) => c.table === 'public.lead_notes')!.rows }).toEqual({
      rows: surplus,
      notes: notesToMove,
    });

    const run = await applyClean(test.database, await options({ batchRows: BATCH_ROWS }));
    expect(run.status).toBe('done');
    expect(run.rowsRemoved).toBe(surplus);
    expect(run.groups).toBe(plan.groups);
    expect(run.batches).toBe(plan.batches);
    expect(run.largestBatchRows).toBeLessThanOrEqual(BATCH_ROWS);
    // the run's own batch records: no batch removed more than the cap less its keeper; the big group took 4 chunks
    expect(
      await n(`select max(c) as n from (select count(*) as c from lead_dedupe.lead_dedupe_removed where run_id = ${run.runId} group by batch_no) b`),
    ).toBeLessThanOrEqual(BATCH_ROWS - 1);
    expect(await n(`select count(distinct batch_no) as n from lead_dedupe.lead_dedupe_removed where run_id = ${run.runId} and keeper_id = '${keeper}'`)).toBe(
      4,
    );
    expect(await n(`select count(*) as n from leads where device_id = 777777`)).toBe(1);
    expect(await test.query(`select id::text as id, email from leads where device_id = 777777`)).toEqual([{ id: keeper, email: 'newest@example.com' }]);
    expect(await n(`select count(*) as n from lead_notes where lead_id = ${keeper}`)).toBe(notesToMove + (Number(keeper) % 10 === 0 ? 1 : 0));

    await restoreRun(test.database, { runId: run.runId, archiveSchema: 'lead_dedupe', execute: true });
    expect(await state()).toEqual(before);
  });

  it('an interrupted chunked group is finished by the next run with the same keeper; restoring both runs gives the table back', async () => {
    const copies = 6_000;
    const batchRows = 2_000;
    await addCopies(copies);
    const before = await state();
    const keeper = String(
      (await test.query<{ id: string }>(`select id::text as id from leads where device_id = 777777 order by created_at, id limit 1`))[0]!.id,
    );
    const stop = new AbortController();
    const first = await applyClean(test.database, await options({ batchRows, batchSize: 100_000 }), {
      signal: stop.signal,
      onProgress: (progress) => {
        if (progress.batch === 2) stop.abort();
      },
    });
    expect(first.status).toBe('interrupted');
    expect(await n(`select count(*) as n from leads where device_id = 777777`)).toBeGreaterThan(1);
    const second = await applyClean(test.database, await options({ batchRows }));
    expect(second.status).toBe('done');
    expect(await test.query(`select id::text as id, email from leads where device_id = 777777`)).toEqual([{ id: keeper, email: 'newest@example.com' }]);
    expect(first.rowsRemoved + second.rowsRemoved).toBe(
      copies -
        1 +
        (await n(`select count(*) as n from lead_dedupe.lead_dedupe_removed where run_id in (${first.runId}, ${second.runId}) and keeper_id <> '${keeper}'`)),
    );
    await restoreRun(test.database, { runId: second.runId, archiveSchema: 'lead_dedupe', execute: true });
    await restoreRun(test.database, { runId: first.runId, archiveSchema: 'lead_dedupe', execute: true });
    expect(await state()).toEqual(before);
  });

  // Concurrent writers need a second connection: PGlite has one, so this case exists on the server only.
  if (target.label === 'postgres') {
    it('when the application moves the keeper out of the group between chunks, the remaining chunks are left for the next run; nothing else is removed', async () => {
      const copies = 6_000;
      const batchRows = 2_000;
      await addCopies(copies);
      await test.exec('create table leads_expected as select * from leads;\n');
      const keeper = String(
        (await test.query<{ id: string }>(`select id::text as id from leads where device_id = 777777 order by created_at, id limit 1`))[0]!.id,
      );
      let moved: Promise<unknown> | null = null;
      const run = await applyClean(test.database, await options({ batchRows, batchSize: 100_000, pauseMs: 1_000 }), {
        onProgress: (progress) => {
          // after the first chunk committed, while the run pauses: the webhook changes the keeper's phone
          if (progress.batch === 2) moved = test.query(`update leads set phone = '60100000001' where id = ${keeper}`);
        },
      });
      await moved;
      expect(run.status).toBe('done');
      const removedInFirstChunk = await n(`select count(*) as n from lead_dedupe.lead_dedupe_removed where run_id = ${run.runId} and keeper_id = '${keeper}'`);
      // the first chunk holds the keeper (the oldest copy has the lowest id) and batchRows - 2 others
      expect(removedInFirstChunk).toBe(batchRows - 2);
      expect(await n(`select count(*) as n from leads where device_id = 777777 and phone = '60123456789'`)).toBe(copies - 1 - removedInFirstChunk);
      expect(await n(`select count(*) as n from leads where id = ${keeper} and phone = '60100000001'`)).toBe(1);

      const rerun = await applyClean(test.database, await options({ batchRows }));
      expect(await n(`select count(*) as n from leads where device_id = 777777`)).toBe(2);
      await restoreRun(test.database, { runId: rerun.runId, archiveSchema: 'lead_dedupe', execute: true });
      await restoreRun(test.database, { runId: run.runId, archiveSchema: 'lead_dedupe', execute: true });
      await test.exec(`update leads_expected set phone = '60100000001' where id = ${keeper};\n`);
      const md5 = async (table: string) =>
        (await test.query<{ md5: string }>(`select md5(string_agg(t::text, ',' order by id)) as md5 from ${table} t`))[0]!.md5;
      expect(await md5('leads')).toBe(await md5('leads_expected'));
      await test.exec('drop table leads_expected;\n');
    });
  }
});
