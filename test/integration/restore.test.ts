import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { applyClean } from '../../src/clean/apply-clean.js';
import { RestoreConflictError } from '../../src/clean/errors.js';
import { resolveCleanOptions } from '../../src/cli/clean-flags.js';
import type { CleanOptions } from '../../src/clean/types.js';
import { restoreRun } from '../../src/clean/restore/restore.js';
import { listRuns } from '../../src/clean/runs/runs.js';
import { loadLeadTable } from '../../src/core/lead-table.js';
import { DatabaseError, UsageError } from '../../src/errors.js';
import { resolveKeys } from '../../src/keys/resolve-key.js';
import { seed } from '../../src/seed/seed.js';
import { sqlOracle } from '../support/oracle.js';
import { TEST_TARGETS, type TestDatabase } from '../support/test-database.js';

describe.each(TEST_TARGETS.filter((t) => t.available))('restore on $label', (target) => {
  let test: TestDatabase;

  beforeAll(async () => {
    test = await target.open();
  });
  afterAll(async () => test?.close());
  beforeEach(async () => {
    await test.exec('drop table if exists lead_notes;\n');
    await seed(test.database, { table: 'leads', rows: 2500, scenario: 'production', replace: true });
    // A RESTRICT child besides the seed's CASCADE one, on some duplicates and some keepers.
    await test.exec(`create table lead_notes (id serial primary key, lead_id bigint not null references leads (id) on delete restrict, body text);
insert into lead_notes (lead_id, body) select id, 'note ' || id from leads where id % 3 = 0;
update leads set email = null, niche = '' where id % 5 = 0;
`);
  });

  async function options(overrides: Partial<CleanOptions> = {}): Promise<CleanOptions> {
    const table = await loadLeadTable(test.database.db, { table: 'leads', idColumn: 'id', createdColumn: 'created_at' });
    const [key] = resolveKeys(table, ['device-phone'], { columnMap: {}, normalize: {}, defaultCountry: null, nullsEqual: false, customKeys: [] }).keys;
    return { ...resolveCleanOptions(key!, { mergeRule: [] }), ...overrides };
  }

  const checksum = async (table: string) =>
    (await test.query<{ md5: string }>(`select md5(string_agg(t::text, ',' order by id)) as md5 from ${table} t`))[0]!.md5;
  const state = async () => ({ leads: await checksum('leads'), activities: await checksum('lead_activities'), notes: await checksum('lead_notes') });
  const count = async (sql: string) => Number((await test.query<{ n: string }>(`select count(*) as n from (${sql}) q`))[0]!.n);

  it('puts both tables back exactly as they were after a merge run, and the dry run changes nothing', async () => {
    const before = await state();
    const oracle = await sqlOracle(test, 'leads', ['device_id', 'phone'], true);
    const run = await applyClean(test.database, await options({ mode: 'merge', batchSize: 30 }));
    expect(run.rowsRemoved).toBe(oracle.surplus);
    expect(run.rowsMerged).toBeGreaterThan(0);
    const afterClean = await state();
    expect(afterClean.leads).not.toBe(before.leads);

    const rehearsal = await restoreRun(test.database, { runId: run.runId, archiveSchema: 'lead_dedupe', execute: false });
    expect(await state()).toEqual(afterClean);
    expect(rehearsal.rowsReinserted).toBe(oracle.surplus);
    expect(rehearsal.keepersRestored).toBe(run.rowsMerged);
    expect(rehearsal.keeperConflicts.total).toBe(0);
    expect(rehearsal.childRows.map((c) => c.movedBack)).toEqual(run.childRows.map((c) => c.rows));

    const restored = await restoreRun(test.database, { runId: run.runId, archiveSchema: 'lead_dedupe', execute: true });
    expect(restored.rowsReinserted).toBe(oracle.surplus);
    expect(await state()).toEqual(before);
    const [listed] = await listRuns(test.database, { archiveSchema: 'lead_dedupe', table: 'public.leads', limit: 1 });
    expect(listed).toMatchObject({ id: run.runId, status: 'restored', rowsRemoved: oracle.surplus });
    await expect(restoreRun(test.database, { runId: run.runId, archiveSchema: 'lead_dedupe', execute: true })).rejects.toThrow(UsageError);
    // The table's identity still hands out new ids after the restored ones.
    await test.exec(`insert into leads (device_id, user_id, phone) values (1, 1, '60100000000');\n`);
  });

  it('never silently overwrites a merged keeper column the application changed after the clean; --force does, and the dry run shows it', async () => {
    await test.exec('create table leads_before as select * from leads;\n');
    const run = await applyClean(test.database, await options({ mode: 'merge', batchSize: 40 }));
    const [keeper] = await test.query<{ id: string }>(`select row_id as id from lead_dedupe.lead_dedupe_keepers
      where run_id = ${run.runId} and merged_columns = '{email}' order by row_id::bigint limit 1`);
    const id = keeper!.id;
    expect(await count(`select * from leads_before where id = ${id} and email is null`)).toBe(1);
    await test.exec(`update leads set email = 'corrected-by-app@example.com' where id = ${id};\n`);
    const afterApp = await state();

    const rehearsal = await restoreRun(test.database, { runId: run.runId, archiveSchema: 'lead_dedupe', execute: false });
    expect(await state()).toEqual(afterApp);
    expect(rehearsal.keeperConflicts).toEqual({
      total: 1,
      unproven: 0,
      overwritten: false,
      sample: [{ keeperId: id, column: 'email', current: 'corrected-by-app@example.com', unproven: false }],
    });
    // a read-only server's dry run counts with SELECTs (the conflicts a CTE, not an indexed temp table): the same figures
    const counted = await restoreRun(
      { ...test.database, features: { ...test.database.features, readOnly: 'read-only session' } },
      { runId: run.runId, archiveSchema: 'lead_dedupe', execute: false },
    );
    expect(counted.dryRun).toBe('counted');
    const figures = (result: typeof rehearsal) => ({
      reinserted: result.rowsReinserted,
      keepers: result.keepersRestored,
      conflicts: result.keeperConflicts,
      children: result.childRows,
    });
    expect(figures(counted)).toEqual(figures(rehearsal));
    expect(rehearsal.keepersRestored).toBeGreaterThan(0);

    const restored = await restoreRun(test.database, { runId: run.runId, archiveSchema: 'lead_dedupe', execute: true });
    expect(restored.keeperConflicts.total).toBe(1);
    expect(restored.status).toBe('restored with conflicts');
    // everything is back as before the clean, except the application's newer email
    const original = await checksum('leads_before');
    await test.exec(`update leads_before set email = 'corrected-by-app@example.com' where id = ${id};\n`);
    expect(await checksum('leads')).toBe(await checksum('leads_before'));

    // the run is not "restored": runs says what is left, a plain restore says how to finish, --force finishes it
    const [listed] = await listRuns(test.database, { archiveSchema: 'lead_dedupe', table: null, limit: 1 });
    expect(listed).toMatchObject({ id: run.runId, status: 'restored with conflicts' });
    const [recorded] = await test.query<{ status: string }>(`select status from lead_dedupe.lead_dedupe_runs where id = ${run.runId}`);
    expect(recorded!.status).toBe('restored with conflicts');
    await expect(restoreRun(test.database, { runId: run.runId, archiveSchema: 'lead_dedupe', execute: true })).rejects.toThrow(
      /restored with conflicts.*--force/,
    );
    const rehearsal2 = await restoreRun(test.database, { runId: run.runId, archiveSchema: 'lead_dedupe', execute: false, force: true });
    expect({ finishing: rehearsal2.finishing, reinserted: rehearsal2.rowsReinserted, keepers: rehearsal2.keepersRestored }).toEqual({
      finishing: true,
      reinserted: 0,
      keepers: 1,
    });
    const finished = await restoreRun(test.database, { runId: run.runId, archiveSchema: 'lead_dedupe', execute: true, force: true });
    // only the column left alone is put back (the others hold their archived values since the first pass)
    expect({
      status: finished.status,
      finishing: finished.finishing,
      reinserted: finished.rowsReinserted,
      keepers: finished.keepersRestored,
      conflicts: finished.keeperConflicts.total,
      overwritten: finished.keeperConflicts.overwritten,
    }).toEqual({ status: 'restored', finishing: true, reinserted: 0, keepers: 1, conflicts: 1, overwritten: true });
    // now exactly as before the clean, the application's email replaced by the archived one
    const [now] = await test.query<{ md5: string }>(`select md5(string_agg(t::text, ',' order by id)) as md5 from leads t`);
    expect(now!.md5).toBe(original);
    const [after] = await listRuns(test.database, { archiveSchema: 'lead_dedupe', table: null, limit: 1 });
    expect(after!.status).toBe('restored');
    await expect(restoreRun(test.database, { runId: run.runId, archiveSchema: 'lead_dedupe', execute: true, force: true })).rejects.toThrow('already restored');
    await test.exec('drop table leads_before;\n');
  });

  it('an archive whose status check predates "restored with conflicts" is upgraded by the restore that needs it', async () => {
    const run = await applyClean(test.database, await options({ mode: 'merge' }));
    await test.exec(`alter table lead_dedupe.lead_dedupe_runs drop constraint lead_dedupe_runs_status_check,
  add constraint lead_dedupe_runs_status_check check (status in ('running', 'done', 'failed', 'restored', 'interrupted'));
update leads set niche = 'App' where id = (select row_id::bigint from lead_dedupe.lead_dedupe_keepers where run_id = ${run.runId} and 'niche' = any(merged_columns) order by row_id::bigint limit 1);
`);
    await restoreRun(test.database, { runId: run.runId, archiveSchema: 'lead_dedupe', execute: true });
    const [recorded] = await test.query<{ status: string }>(`select status from lead_dedupe.lead_dedupe_runs where id = ${run.runId}`);
    expect(recorded!.status).toBe('restored with conflicts');
  });

  /** Every row as jsonb with email under its archived name and without the column added since: equal to the original row's. */
  const originalShape = async () =>
    (
      await test.query<{
        md5: string;
      }>(`select md5(string_agg((to_jsonb(t) - 'note' - 'email_address' || jsonb_build_object('email', t.email_address))::text, ',' order by id)) as md5
from leads t`)
    )[0]!.md5;
  const plainShape = async () => (await test.query<{ md5: string }>(`select md5(string_agg(to_jsonb(t)::text, ',' order by id)) as md5 from leads t`))[0]!.md5;

  it.each(['delete', 'merge'] as const)(
    'after a column rename and a new column (%s): exit 2 naming the column, nothing changed; --map puts every value back',
    async (mode) => {
      const original = await plainShape();
      const emails = await count('select * from leads where email is not null');
      const run = await applyClean(test.database, await options({ mode }));
      expect(run.rowsRemoved).toBeGreaterThan(0);
      if (mode === 'merge')
        expect(await count(`select * from lead_dedupe.lead_dedupe_keepers where run_id = ${run.runId} and 'email' = any(merged_columns)`)).toBeGreaterThan(0);
      await test.exec(`alter table leads rename column email to email_address;
alter table leads add column note text default 'x';
`);
      const afterChange = await state();
      for (const execute of [false, true]) {
        const attempt = restoreRun(test.database, { runId: run.runId, archiveSchema: 'lead_dedupe', execute });
        await expect(attempt).rejects.toThrow(UsageError);
        await expect(restoreRun(test.database, { runId: run.runId, archiveSchema: 'lead_dedupe', execute })).rejects.toThrow(
          /archived a column public\.leads no longer has: email; nothing was changed.*--map email=<column>.*--drop-column email/,
        );
      }
      expect(await state()).toEqual(afterChange);
      await expect(
        restoreRun(test.database, {
          runId: run.runId,
          archiveSchema: 'lead_dedupe',
          execute: true,
          columns: { renames: [{ from: 'email', to: 'nope' }], dropColumns: [] },
        }),
      ).rejects.toThrow('--map email=nope: public.leads has no column nope');

      const columns = { renames: [{ from: 'email', to: 'email_address' }], dropColumns: [] };
      const restored = await restoreRun(test.database, { runId: run.runId, archiveSchema: 'lead_dedupe', execute: true, columns });
      expect(restored.columns).toEqual({ renamed: [{ from: 'email', to: 'email_address' }], dropped: [], added: ['note'] });
      expect(restored.keeperConflicts.total).toBe(0);
      expect(await originalShape()).toBe(original);
      expect(await count('select * from leads where email_address is not null')).toBe(emails);
      expect(await count(`select * from leads where note is distinct from 'x'`)).toBe(0);
      expect(await count(`select * from lead_dedupe.lead_dedupe_removed where run_id = ${run.runId}`)).toBe(run.rowsRemoved);
    },
  );

  it('--drop-column restores the rows without that column; a NOT NULL column the archive has no value for is named', async () => {
    await test.exec('alter table leads add column extra text;\n');
    const run = await applyClean(test.database, await options({ mode: 'delete' }));
    await test.exec(`alter table leads drop column niche;
update leads set extra = 'kept';
alter table leads alter column extra set not null;
`);
    const afterChange = await state();
    const dropNiche = { renames: [], dropColumns: ['niche'] };
    await expect(restoreRun(test.database, { runId: run.runId, archiveSchema: 'lead_dedupe', execute: true, columns: dropNiche })).rejects.toThrow(
      /would leave column extra of leads NULL.*nothing was changed/,
    );
    await expect(restoreRun(test.database, { runId: run.runId, archiveSchema: 'lead_dedupe', execute: true, columns: dropNiche })).rejects.toMatchObject({
      fields: { runId: run.runId, table: 'public.leads', column: 'extra' },
    });
    expect(await state()).toEqual(afterChange);
    await test.exec('alter table leads alter column extra drop not null;\n');
    const restored = await restoreRun(test.database, { runId: run.runId, archiveSchema: 'lead_dedupe', execute: true, columns: dropNiche });
    expect(restored.rowsReinserted).toBe(run.rowsRemoved);
    expect(await count(`select * from leads where extra is null`)).toBe(run.rowsRemoved);
  });

  it('--force puts the archived values back over the application’s; the dry run says so', async () => {
    const before = await state();
    const run = await applyClean(test.database, await options({ mode: 'merge' }));
    const changed = await test.query<{ id: string }>(`update leads set niche = 'App' where id in (select row_id::bigint from lead_dedupe.lead_dedupe_keepers
      where run_id = ${run.runId} and 'niche' = any(merged_columns) order by row_id::bigint limit 3) returning id::text as id`);
    expect(changed).toHaveLength(3);
    const rehearsal = await restoreRun(test.database, { runId: run.runId, archiveSchema: 'lead_dedupe', execute: false, force: true });
    expect({ total: rehearsal.keeperConflicts.total, overwritten: rehearsal.keeperConflicts.overwritten }).toEqual({ total: 3, overwritten: true });
    await restoreRun(test.database, { runId: run.runId, archiveSchema: 'lead_dedupe', execute: true, force: true });
    expect(await state()).toEqual(before);
  });

  it('an archive written before merged values were recorded cannot prove a keeper unchanged: conflicts, unless --force', async () => {
    const before = await state();
    const run = await applyClean(test.database, await options({ mode: 'merge' }));
    const afterClean = await state();
    // the previous version's archive: no merged_data column at all
    await test.exec('alter table lead_dedupe.lead_dedupe_keepers drop column merged_data;\n');
    const [expected] = await test.query<{ n: string }>(
      `select coalesce(sum(cardinality(merged_columns)), 0) as n from lead_dedupe.lead_dedupe_keepers where run_id = ${run.runId}`,
    );
    expect(Number(expected!.n)).toBeGreaterThan(0);
    const rehearsal = await restoreRun(test.database, { runId: run.runId, archiveSchema: 'lead_dedupe', execute: false });
    expect({ total: rehearsal.keeperConflicts.total, unproven: rehearsal.keeperConflicts.unproven }).toEqual({
      total: Number(expected!.n),
      unproven: Number(expected!.n),
    });
    expect(rehearsal.keepersRestored).toBe(0);
    expect(await state()).toEqual(afterClean);
    await restoreRun(test.database, { runId: run.runId, archiveSchema: 'lead_dedupe', execute: true, force: true });
    expect(await state()).toEqual(before);
    // the next clean adds the column back to the old archive
    await applyClean(test.database, await options({ mode: 'merge', maxGroups: 3 }));
    expect(
      await count(
        `select 1 from information_schema.columns where table_schema = 'lead_dedupe' and table_name = 'lead_dedupe_keepers' and column_name = 'merged_data'`,
      ),
    ).toBe(1);
  });

  it('undoes two runs newest first, and refuses the older one first when the newer removed its keepers', async () => {
    const before = await state();
    const first = await applyClean(test.database, await options({ maxGroups: 20, mode: 'delete' }));
    // keep newest now: some of the first run's keepers become losers
    await test.exec(`insert into leads (device_id, phone, user_id, name, created_at) select device_id, phone, user_id, 'late copy', now()
      from leads where id in (select keeper_id::bigint from lead_dedupe.lead_dedupe_removed where run_id = ${first.runId}) limit 3;\n`);
    const beforeSecond = await state();
    const second = await applyClean(test.database, await options({ keep: 'oldest' }));
    expect(second.rowsRemoved).toBeGreaterThan(0);
    await expect(restoreRun(test.database, { runId: first.runId, archiveSchema: 'lead_dedupe', execute: false })).resolves.toBeDefined();
    await restoreRun(test.database, { runId: second.runId, archiveSchema: 'lead_dedupe', execute: true });
    expect(await state()).toEqual(beforeSecond);
    await test.exec(`delete from leads where name = 'late copy';\n`);
    await restoreRun(test.database, { runId: first.runId, archiveSchema: 'lead_dedupe', execute: true });
    expect(await state()).toEqual(before);

    const third = await applyClean(test.database, await options({ maxGroups: 5, mode: 'delete' }));
    await test.exec(`insert into leads (device_id, phone, user_id, name, created_at) select device_id, phone, user_id, 'newer copy', now()
      from leads where id in (select keeper_id::bigint from lead_dedupe.lead_dedupe_removed where run_id = ${third.runId}) limit 1;\n`);
    const fourth = await applyClean(test.database, await options({ keep: 'newest', maxGroups: 5, mode: 'delete' }));
    expect(fourth.rowsRemoved).toBeGreaterThan(0);
    await expect(restoreRun(test.database, { runId: third.runId, archiveSchema: 'lead_dedupe', execute: true })).rejects.toThrow(`run(s) ${fourth.runId}`);
  });

  it.runIf(target.label === 'postgres')(
    'a statement past --statement-timeout stops the restore and its dry run whole, and the message names the flag',
    async () => {
      const run = await applyClean(test.database, await options({ mode: 'merge', batchSize: 30 }));
      const afterClean = await state();
      // Every re-insert into leads now takes 0.3 s: past a 100 ms limit, deterministically.
      await test.exec(`create function slow_insert() returns trigger language plpgsql as $$ begin perform pg_sleep(0.3); return null; end $$;
create trigger slow_insert after insert on leads for each statement execute function slow_insert();
`);
      try {
        for (const execute of [false, true]) {
          const restoring = restoreRun(test.database, { runId: run.runId, archiveSchema: 'lead_dedupe', execute, statementTimeoutMs: 100 });
          await expect(restoring).rejects.toThrow(DatabaseError);
          await expect(restoring).rejects.toThrow(/database error 57014: .*nothing was changed\. .*--statement-timeout \(100 ms\).*--statement-timeout 30m/);
          expect(await state()).toEqual(afterClean);
        }
        const [listed] = await listRuns(test.database, { archiveSchema: 'lead_dedupe', table: 'public.leads', limit: 1 });
        expect(listed).toMatchObject({ id: run.runId, status: 'done' });
      } finally {
        await test.exec('drop trigger slow_insert on leads;\ndrop function slow_insert();\n');
      }
    },
  );

  it('names the unique constraint a restore would break and changes nothing', async () => {
    const run = await applyClean(test.database, await options({ mode: 'merge' }));
    await test.exec('alter table leads add constraint leads_device_phone_key unique (device_id, phone);\n');
    const afterClean = await state();
    await expect(restoreRun(test.database, { runId: run.runId, archiveSchema: 'lead_dedupe', execute: true })).rejects.toThrow(RestoreConflictError);
    await expect(restoreRun(test.database, { runId: run.runId, archiveSchema: 'lead_dedupe', execute: true })).rejects.toMatchObject({
      fields: { runId: run.runId, table: 'public.leads', constraint: 'leads_device_phone_key' },
    });
    await expect(restoreRun(test.database, { runId: run.runId, archiveSchema: 'lead_dedupe', execute: true })).rejects.toThrow(
      /leads_device_phone_key.*nothing was changed/,
    );
    expect(await state()).toEqual(afterClean);
    const [listed] = await listRuns(test.database, { archiveSchema: 'lead_dedupe', table: null, limit: 1 });
    expect(listed!.status).toBe('done');
  });

  it('an interrupted run keeps every committed batch archived and restores exactly', async () => {
    const before = await state();
    const rowsBefore = await count('select * from leads');
    const interrupt = new AbortController();
    const run = await applyClean(test.database, await options({ batchSize: 10 }), {
      signal: interrupt.signal,
      onProgress: (progress) => {
        if (progress.batch === 2) interrupt.abort();
      },
    });
    expect(run.status).toBe('interrupted');
    expect(run.batchesDone).toBe(2);
    expect(run.stoppedBecause).toContain('interrupted after 2 of');
    const archived = await count(`select * from lead_dedupe.lead_dedupe_removed where run_id = ${run.runId}`);
    expect(archived).toBe(run.rowsRemoved);
    expect(await count('select * from leads')).toBe(rowsBefore - archived);
    expect(await count(`select distinct batch_no from lead_dedupe.lead_dedupe_removed where run_id = ${run.runId}`)).toBe(2);
    await restoreRun(test.database, { runId: run.runId, archiveSchema: 'lead_dedupe', execute: true });
    expect(await state()).toEqual(before);
  });
});
