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

const BATCH = 7;

/**
 * Hand-written: the removed rows under device-phone, keep oldest, with the batch their group falls in
 * (groups numbered in key order, BATCH per transaction), and the rows that reference one of them
 * and are not themselves removed in the same or an earlier batch: exactly what has to be re-pointed.
 */
const VICTIMS = `with g as (select device_id, phone, row_number() over (order by device_id, phone) as gno
                from leads where device_id is not null and phone is not null group by 1, 2 having count(*) > 1),
     r as (select l.id, (g.gno - 1) / ${BATCH} as batch, first_value(l.id) over w as keeper, row_number() over w as rn
           from leads l join g on g.device_id = l.device_id and g.phone = l.phone
           window w as (partition by l.device_id, l.phone order by l.created_at, l.id))
select id, batch, keeper from r where rn > 1`;
const MOVED = `with v as (${VICTIMS})
select count(*) as n from leads c join v on c.parent_id = v.id
where not exists (select 1 from v as v2 where v2.id = c.id and v2.batch <= v.batch)`;

describe.each(TEST_TARGETS.filter((t) => t.available))('a self-referencing foreign key on $label', (target) => {
  let test: TestDatabase;

  beforeAll(async () => {
    test = await target.open();
  });
  afterAll(async () => test?.close());
  beforeEach(async () => {
    await seed(test.database, { table: 'leads', rows: 2500, scenario: 'production', replace: true });
    await test.exec(`alter table leads add column parent_id bigint references leads (id);
update leads l set parent_id = x.other
  from (select id, lead(id) over (partition by device_id, phone order by id) as other from leads where phone is not null) as x
  where x.id = l.id and x.other is not null and l.id % 3 = 0;
update leads l set parent_id = x.other
  from (select id, lag(id) over (partition by device_id, phone order by id) as other from leads where phone is not null) as x
  where x.id = l.id and x.other is not null and l.id % 3 = 1;
update leads set parent_id = id + 7 where id % 11 = 5 and parent_id is null and id + 7 <= (select max(id) from leads);
update leads set parent_id = id where id in (2, 3);
`);
  });

  async function options(overrides: Partial<CleanOptions> = {}): Promise<CleanOptions> {
    const table = await loadLeadTable(test.database.db, { table: 'leads', idColumn: 'id', createdColumn: 'created_at' });
    const [key] = resolveKeys(table, ['device-phone'], { columnMap: {}, normalize: {}, defaultCountry: null, nullsEqual: false, customKeys: [] }).keys;
    return { ...resolveCleanOptions(key!, { mergeRule: [] }), batchSize: BATCH, ...overrides };
  }
  const n = async (text: string) => Number((await test.query<{ n: string }>(text))[0]!.n);
  const checksum = async () => (await test.query<{ md5: string }>(`select md5(string_agg(t::text, ',' order by id)) as md5 from leads t`))[0]!.md5;

  it('merge never fills parent_id from a copy, no keeper becomes its own parent, the dry run counts what execute moves, restore undoes it', async () => {
    const before = await checksum();
    const cyclesBefore = await n('select count(*) as n from leads where parent_id = id');
    const oracle = await n(MOVED);
    // the cases the fixture must hold: keepers pointing at their own copies, copies pointing at copies, empty keepers with a donor
    expect(await n(`with v as (${VICTIMS}) select count(*) as n from leads c join v on c.parent_id = v.id and c.id = v.keeper`)).toBeGreaterThan(0);
    expect(await n(`with v as (${VICTIMS}) select count(*) as n from leads c join v on c.parent_id = v.id join v as v2 on v2.id = c.id`)).toBeGreaterThan(0);
    const emptyKeepers = await test.query<{ id: string }>(`with v as (${VICTIMS})
      select distinct k.id::text as id from leads k join v on v.keeper = k.id join leads d on d.id = v.id
      where k.parent_id is null and d.parent_id is not null order by 1`);
    expect(emptyKeepers.length).toBeGreaterThan(0);

    const plan = await planClean(test.database, await options());
    const planned = plan.childRows.find((c) => c.table === 'public.leads')!;
    expect(planned.rows).toBe(oracle);
    expect(plan.mergeColumns.some((c) => c.startsWith('parent_id='))).toBe(false);

    const run = await applyClean(test.database, await options());
    expect(run.status).toBe('done');
    expect(run.childRows.find((c) => c.table === 'public.leads')!.rows).toBe(oracle);
    expect(await n(`select count(*) as n from lead_dedupe.lead_dedupe_moved where run_id = ${run.runId} and child_table = 'leads'`)).toBe(oracle);
    expect(await n('select count(*) as n from leads where parent_id = id')).toBe(cyclesBefore);
    // a keeper whose parent_id was empty stays empty (it would only have been filled from a copy)
    expect(await n(`select count(*) as n from leads where id in (${emptyKeepers.map((k) => k.id).join(', ')}) and parent_id is not null`)).toBe(0);

    await restoreRun(test.database, { runId: run.runId, archiveSchema: 'lead_dedupe', execute: true });
    expect(await checksum()).toBe(before);
  });

  it('a NOT NULL self-reference skips the groups whose keeper points at its own copy, and cleans the rest', async () => {
    await test.exec(`update leads set parent_id = id where parent_id is null;
alter table leads alter column parent_id set not null;
`);
    const before = await checksum();
    const oracle = await n(`with v as (${VICTIMS}) select count(distinct v.keeper) as n from leads c join v on c.parent_id = v.id and c.id = v.keeper`);
    expect(oracle).toBeGreaterThan(0);
    const plan = await planClean(test.database, await options({ mode: 'delete' }));
    expect(plan.skippedGroups).toBe(oracle);
    const run = await applyClean(test.database, await options({ mode: 'delete' }));
    expect(run.status).toBe('done');
    expect(run.skippedGroups).toBe(oracle);
    expect(run.childRows.find((c) => c.table === 'public.leads')!.rows).toBe(plan.childRows.find((c) => c.table === 'public.leads')!.rows);
    expect(run.skipped[0]!.reason).toContain('parent_id, which is NOT NULL');
    await restoreRun(test.database, { runId: run.runId, archiveSchema: 'lead_dedupe', execute: true });
    expect(await checksum()).toBe(before);
  });

  it('with row-capped batches (--batch-rows), the dry run counts the batches and the self-reference rows execute moves, batch by batch', async () => {
    const batchRows = 40;
    // Removed copies pointing at removed copies of other groups: some in an earlier batch (not moved), some in a later one (moved first).
    await test.exec(`update leads c set parent_id = x.next
  from (select id, lead(id) over (order by id) as next
        from (select id, row_number() over (partition by device_id, phone order by created_at, id) as rn
              from leads where device_id is not null and phone is not null) as r
        where rn > 1) as x
  where x.id = c.id and x.next is not null and c.id % 2 = 0;
create table ld_test_before as select id, parent_id from leads;
`);
    try {
      const plan = await planClean(test.database, await options({ batchSize: 1000, batchRows }));
      const run = await applyClean(test.database, await options({ batchSize: 1000, batchRows }));
      expect(run.status).toBe('done');
      expect(run.batches).toBe(plan.batches);
      expect(run.batchesDone).toBe(plan.batches);
      // more than the groups alone would need (1000 a batch): the row cap cut them, and no batch locked more
      expect(plan.batches).toBeGreaterThan(1);
      expect(run.largestBatchRows).toBeLessThanOrEqual(batchRows);
      // Hand-written from the archive: the rows that referenced a removed row, less those removed in the same or an earlier batch.
      const oracle = await n(`select count(*) as n from ld_test_before c
        join lead_dedupe.lead_dedupe_removed r on r.run_id = ${run.runId} and c.parent_id::text = r.row_id
        where not exists (select 1 from lead_dedupe.lead_dedupe_removed r2 where r2.run_id = r.run_id and r2.row_id = c.id::text and r2.batch_no <= r.batch_no)`);
      expect(oracle).toBeGreaterThan(0);
      // the case only batch numbers decide: a removed row whose parent was removed in an earlier batch
      expect(
        await n(`select count(*) as n from ld_test_before c
        join lead_dedupe.lead_dedupe_removed r on r.run_id = ${run.runId} and c.parent_id::text = r.row_id
        join lead_dedupe.lead_dedupe_removed r2 on r2.run_id = r.run_id and r2.row_id = c.id::text and r2.batch_no > r.batch_no`),
      ).toBeGreaterThan(0);
      expect(plan.childRows.find((c) => c.table === 'public.leads')!.rows).toBe(oracle);
      expect(run.childRows.find((c) => c.table === 'public.leads')!.rows).toBe(oracle);
    } finally {
      await test.exec('drop table ld_test_before;\n');
    }
  });
});
