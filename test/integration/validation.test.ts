import { sql } from 'kysely';
import { USER_SEARCH_PATH_SETTING } from '../../src/db/session-pin.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyClean } from '../../src/clean/apply-clean.js';
import { addConstraint } from '../../src/core/constraint/apply-add.js';
import { resolveCleanOptions } from '../../src/cli/clean-flags.js';
import type { CleanOptions } from '../../src/clean/types.js';
import { planClean } from '../../src/clean/preview.js';
import { restoreRun } from '../../src/clean/restore/restore.js';
import { listRuns } from '../../src/clean/runs/runs.js';
import { loadLeadTable } from '../../src/core/lead-table.js';
import type { Database } from '../../src/db/database.js';
import { openDatabase } from '../../src/db/with-database.js';
import { CatalogError, UsageError } from '../../src/errors.js';
import { resolveKeys } from '../../src/keys/resolve-key.js';
import { seed } from '../../src/seed/seed.js';
import { keyFor } from '../support/constraint-fixtures.js';
import { TEST_TARGETS, type TestDatabase } from '../support/test-database.js';
import { PLAIN_KEY_SETTINGS } from '../support/table-facts.js';

const plain = PLAIN_KEY_SETTINGS;

/**
 * Input the catalog has to vouch for before clean, restore or constraint
 * touch anything: the id column's uniqueness, the created column, schema
 * names with dots, system schemas, views; and the run list's order.
 */
describe.each(TEST_TARGETS.filter((t) => t.available))('catalog checks on $label', (target) => {
  let test: TestDatabase;

  beforeAll(async () => {
    test = await target.open();
  });
  afterAll(async () => test?.close());

  async function options(
    database: Database,
    table: string,
    overrides: Partial<CleanOptions> = {},
    createdColumn: string | null = 'created_at',
  ): Promise<CleanOptions> {
    const leadTable = await loadLeadTable(database.db, { table, idColumn: 'id', createdColumn }, 'clean');
    const [key] = resolveKeys(leadTable, ['device-phone'], plain).keys;
    return { ...resolveCleanOptions(key!, { mergeRule: [] }), ...overrides };
  }
  /** Hand-written checksum of a table, in id order (ties broken by the whole row). */
  const checksum = async (table: string) =>
    (await test.query<{ md5: string | null }>(`select md5(string_agg(t::text, ',' order by t.id, t::text)) as md5 from ${table} t`))[0]!.md5;

  it('runs lists run ids in numeric order: the newest of 11 runs is 11, not 9', async () => {
    await test.exec('create schema run_order;\n');
    await seed(test.database, { table: 'run_order.leads', rows: 400, scenario: 'production', replace: false });
    const archiveSchema = 'run_order_archive';
    for (let run = 1; run <= 11; run++) await applyClean(test.database, await options(test.database, 'run_order.leads', { maxGroups: 1, archiveSchema }));
    const [newest] = await listRuns(test.database, { archiveSchema, table: null, limit: 1 });
    const [oracle] = await test.query<{ id: string }>(`select max(id) as id from ${archiveSchema}.lead_dedupe_runs`);
    expect(Number(oracle!.id)).toBe(11);
    expect(newest!.id).toBe(11);
    expect((await listRuns(test.database, { archiveSchema, table: 'run_order.leads', limit: 20 })).map((r) => r.id)).toEqual([
      11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1,
    ]);
  });

  it('clean and restore refuse an id column without a unique index on exactly it (exit 2), before anything changes', async () => {
    await test.exec(`create table composite_pk (id int not null, part int not null, device_id int, phone text, created_at timestamptz, primary key (id, part));
insert into composite_pk select g % 5, g, 1, '60123', now() from generate_series(1, 20) g;
create table no_pk (id int, device_id int, phone text, created_at timestamptz);
insert into no_pk select g, 1, '60123', now() from generate_series(1, 10) g;
create table partial_unique (id int not null, device_id int, phone text, created_at timestamptz);
create unique index partial_unique_id on partial_unique (id) where id > 0;
insert into partial_unique select g, 1, '60123', now() from generate_series(1, 10) g;
create table expression_unique (id int not null, device_id int, phone text, created_at timestamptz);
create unique index expression_unique_id on expression_unique ((id + 0));
insert into expression_unique select g, 1, '60123', now() from generate_series(1, 10) g;
create table unique_id (id int unique, device_id int, phone text, created_at timestamptz);
insert into unique_id select g, 1, '60123', now() from generate_series(1, 10) g;
`);
    for (const table of ['composite_pk', 'no_pk', 'partial_unique', 'expression_unique']) {
      const before = await checksum(table);
      const refusal = new RegExp(`^clean needs a unique id column: public\\.${table} has no primary key or unique index on exactly "id"`);
      await expect(planClean(test.database, await options(test.database, table))).rejects.toThrow(refusal);
      const error = await applyClean(test.database, await options(test.database, table, { archiveSchema: 'unique_check_archive' })).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UsageError);
      expect((error as Error).message).toMatch(refusal);
      expect(await checksum(table)).toBe(before);
    }
    expect(await test.query(`select 1 from pg_namespace where nspname = 'unique_check_archive'`)).toEqual([]);
    // a plain UNIQUE constraint on the id is enough
    const run = await applyClean(test.database, await options(test.database, 'unique_id', { archiveSchema: 'unique_check_archive' }));
    expect(run.rowsRemoved).toBe(9);

    // restore checks the same: the key is gone since the run
    const before = await checksum('unique_id');
    await test.exec('alter table unique_id drop constraint unique_id_id_key;\n');
    await expect(restoreRun(test.database, { runId: run.runId, archiveSchema: 'unique_check_archive', execute: true })).rejects.toThrow(
      /^restore needs a unique id column: public\.unique_id has no primary key or unique index on exactly "id"/,
    );
    expect(await checksum('unique_id')).toBe(before);
    await test.exec('alter table unique_id add primary key (id);\n');
    expect((await restoreRun(test.database, { runId: run.runId, archiveSchema: 'unique_check_archive', execute: true })).rowsReinserted).toBe(9);
  });

  it('a unique violation outside the re-pointed child tables stops the run at once instead of being retried as a timeout', async () => {
    await test.exec(`create table merge_unique (id int primary key, device_id int, phone text, email text unique, created_at timestamptz);
insert into merge_unique values (1, 1, '60123', null, '2026-01-01'), (2, 1, '60123', 'a@example.com', '2026-01-02');
`);
    const before = await checksum('merge_unique');
    // merge fills the keeper's email from the loser while the loser still holds it: the same violation on every attempt
    const started = performance.now();
    const error = await applyClean(
      test.database,
      await options(test.database, 'merge_unique', { mode: 'merge', retries: 3, archiveSchema: 'retry_archive' }),
    ).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(
      /^clean run 1: database error 23505 in batch 1 of 1 failed: duplicate key value violates unique constraint "merge_unique_email_key"/,
    );
    expect(performance.now() - started).toBeLessThan(3500); // three retries would have waited 0.5 + 1 + 2 s
    expect(await checksum('merge_unique')).toBe(before);
    expect(await test.query(`select status, rows_removed::int as removed from retry_archive.lead_dedupe_runs`)).toEqual([{ status: 'failed', removed: 0 }]);
  });

  it('--created-column must exist and hold a date/time; without it the default created_at may be missing, and the plan says what orders keepers', async () => {
    await test.exec(`create table no_created (id int primary key, device_id int, phone text, inserted_at timestamptz, label text);
insert into no_created select g, 1, '60123', now() - g * interval '1 day', 'x' || g from generate_series(1, 5) g;
`);
    await expect(loadLeadTable(test.database.db, { table: 'no_created', idColumn: 'id', createdColumn: 'inserted_a' })).rejects.toThrow(
      new CatalogError(
        'created column "inserted_a" not found in public.no_created (did you mean "inserted_at"?); columns: id, device_id, phone, inserted_at, label',
      ),
    );
    await expect(loadLeadTable(test.database.db, { table: 'no_created', idColumn: 'id', createdColumn: 'label' })).rejects.toThrow(
      new UsageError('created column "label" of public.no_created is text; it must be a date/time column (timestamp, timestamptz or date)'),
    );
    const fallback = await loadLeadTable(test.database.db, { table: 'no_created', idColumn: 'id', createdColumn: null });
    expect(fallback).toMatchObject({ createdColumn: null, createdFallback: 'no created_at column' });
    const newest = await planClean(test.database, await options(test.database, 'no_created', { keep: 'newest' }, null));
    expect(newest.keeperOrder).toBe('highest id first (no created_at column)');
    expect(newest.sample[0]!.keeper).toBe('5');
    const given = await planClean(test.database, await options(test.database, 'no_created', { keep: 'newest' }, 'inserted_at'));
    expect(given.keeperOrder).toBe('inserted_at newest first, then highest id');
    // the hand-written newest by inserted_at is id 1 (inserted_at falls as the id rises)
    expect(given.sample[0]!.keeper).toBe('1');
  });

  it('a schema named "crm.v2": clean through --table \'"crm.v2".leads\' and through search_path, restore both exactly', async () => {
    await test.exec('create schema "crm.v2";\n');
    await seed(test.database, { table: '"crm.v2".leads', rows: 600, scenario: 'production', replace: false });
    expect(await test.query(`select 1 from pg_tables where schemaname = 'crm.v2' and tablename = 'leads'`)).toHaveLength(1);
    const before = await checksum('"crm.v2".leads');
    const activities = await checksum('"crm.v2".lead_activities');
    const archiveSchema = 'dotted_archive';

    const quoted = await applyClean(test.database, await options(test.database, '"crm.v2".leads', { archiveSchema }));
    expect(quoted.table).toBe('crm.v2.leads');
    expect(quoted.rowsRemoved).toBeGreaterThan(0);
    const stored = await test.query(`select table_schema, table_relname from ${archiveSchema}.lead_dedupe_runs where id = ${quoted.runId}`);
    expect(stored).toEqual([{ table_schema: 'crm.v2', table_relname: 'leads' }]);
    await restoreRun(test.database, { runId: quoted.runId, archiveSchema, execute: true });
    expect(await checksum('"crm.v2".leads')).toBe(before);
    expect(await checksum('"crm.v2".lead_activities')).toBe(activities);

    // the same table reached as plain `leads` through search_path (this database has no public.leads)
    let viaPath: Database;
    if (target.label === 'postgres') {
      const [{ name }] = (await test.query<{ name: string }>('select current_database() as name')) as [{ name: string }];
      await test.exec(`alter database ${name} set search_path = "crm.v2", public;\n`);
      viaPath = await openDatabase(test.target, { connections: 2 });
    } else {
      // One connection, opened before the path was set: the path the tool read at connect (session-pin.ts) stands for the user's.
      viaPath = test.database;
      await sql`select pg_catalog.set_config(${USER_SEARCH_PATH_SETTING}, '["crm.v2", "public"]', false)`.execute(viaPath.db);
    }
    try {
      const throughPath = await applyClean(viaPath, await options(viaPath, 'leads', { archiveSchema }));
      expect(throughPath.rowsRemoved).toBe(quoted.rowsRemoved);
      const [listed] = await listRuns(viaPath, { archiveSchema, table: 'leads', limit: 1 });
      expect(listed).toMatchObject({ id: throughPath.runId, table: 'crm.v2.leads' });
      if (target.label === 'pglite')
        await sql`select pg_catalog.set_config(${USER_SEARCH_PATH_SETTING}, '["pg_catalog", "public"]', false)`.execute(viaPath.db);
      // restore does not depend on search_path: it finds the table by its stored schema and name
      await restoreRun(test.database, { runId: throughPath.runId, archiveSchema, execute: true });
      expect(await checksum('"crm.v2".leads')).toBe(before);
    } finally {
      if (target.label === 'postgres') {
        await viaPath.db.destroy();
        const [{ name }] = (await test.query<{ name: string }>('select current_database() as name')) as [{ name: string }];
        await test.exec(`alter database ${name} reset search_path;\n`);
      }
    }

    // The table as PostgreSQL would read it: three dotted parts are not a table; case folds like an unquoted identifier.
    await expect(loadLeadTable(test.database.db, { table: 'crm.v2.leads', idColumn: 'id', createdColumn: null })).rejects.toThrow(
      /^table "crm\.v2\.leads" not found: a name holding a dot needs double quotes, e\.g\. --table '"crm\.v2"\.leads'; tables here: .*"crm\.v2"\.leads/,
    );
    expect((await loadLeadTable(test.database.db, { table: '"crm.v2".LEADS', idColumn: 'id', createdColumn: null })).info).toMatchObject({
      schema: 'crm.v2',
      name: 'leads',
    });
  });

  it('an archive written by the previous version (no schema/table columns) still lists, restores and is upgraded by the next clean', async () => {
    await test.exec('create schema old_arch_data;\n');
    await seed(test.database, { table: 'old_arch_data.leads', rows: 500, scenario: 'production', replace: false });
    const before = await checksum('old_arch_data.leads');
    const archiveSchema = 'old_archive';
    const first = await applyClean(test.database, await options(test.database, 'old_arch_data.leads', { archiveSchema, maxGroups: 3 }));
    const second = await applyClean(test.database, await options(test.database, 'old_arch_data.leads', { archiveSchema, maxGroups: 3 }));
    // what the previous version created: the runs table without the two columns
    await test.exec(`alter table ${archiveSchema}.lead_dedupe_runs drop column table_schema, drop column table_relname;\n`);
    expect((await listRuns(test.database, { archiveSchema, table: 'old_arch_data.leads', limit: 5 })).map((r) => r.id)).toEqual([second.runId, first.runId]);
    await restoreRun(test.database, { runId: second.runId, archiveSchema, execute: true });
    // the next clean adds the columns and fills them for the old runs
    await applyClean(test.database, await options(test.database, 'old_arch_data.leads', { archiveSchema, maxGroups: 1 }));
    expect(await test.query(`select id::int as id, table_schema, table_relname from ${archiveSchema}.lead_dedupe_runs order by id`)).toEqual([
      { id: 1, table_schema: 'old_arch_data', table_relname: 'leads' },
      { id: 2, table_schema: 'old_arch_data', table_relname: 'leads' },
      { id: 3, table_schema: 'old_arch_data', table_relname: 'leads' },
    ]);
    await restoreRun(test.database, { runId: 3, archiveSchema, execute: true });
    await restoreRun(test.database, { runId: first.runId, archiveSchema, execute: true });
    expect(await checksum('old_arch_data.leads')).toBe(before);
  });

  it('a failed index build is one sentence, not one ending in a stray ";"', async () => {
    // a phone too long for a btree entry fails the build (54000) after CREATE INDEX CONCURRENTLY made the index: it is left invalid
    await test.exec(`create table long_phone (id int primary key, device_id int, phone text, created_at timestamptz);
insert into long_phone select 1, 1, string_agg(md5(g::text), ''), now() from generate_series(1, 200) g;
`);
    const error = await addConstraint(test.database, { key: await keyFor(test.database, 'long_phone', 'device-phone') }).catch((e: unknown) => e);
    const message = (error as Error).message;
    expect(message).toMatch(/index row size \d+ exceeds/);
    expect(message).not.toMatch(/;\s*$/);
    // on the server the build ran CONCURRENTLY and left an invalid index, which was dropped; PGlite's plain build left nothing
    if (target.label === 'postgres') expect(message).toMatch(/; the invalid index "long_phone_device_id_phone_key" it left was dropped$/);
    expect(await test.query(`select 1 from pg_indexes where tablename = 'long_phone' and indexname <> 'long_phone_pkey'`)).toEqual([]);
  });

  it('system catalogs, the archive schema and views are refused as targets with exit 2', async () => {
    await test.exec(`create schema target_checks;
create table target_checks.base (id int primary key, device_id int, phone text, created_at timestamptz);
create view target_checks.v_leads as select * from target_checks.base;
create materialized view target_checks.mv_leads as select * from target_checks.base;
`);
    const [toast] = await test.query<{ name: string }>(
      `select n.nspname || '.' || c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'pg_toast' and c.relkind = 't' limit 1`,
    );
    await applyClean(test.database, await options(test.database, 'target_checks.base', { archiveSchema: 'lead_dedupe' }));
    const load = (table: string, command = 'clean') => loadLeadTable(test.database.db, { table, idColumn: 'id', createdColumn: null }, command);
    for (const [table, schema] of [
      ['pg_catalog.pg_class', 'pg_catalog'],
      ['pg_class', 'pg_catalog'],
      ['information_schema.tables', 'information_schema'],
      [toast!.name, 'pg_toast'],
    ] as const) {
      const error = await load(table).catch((e: unknown) => e);
      expect(error, table).toBeInstanceOf(UsageError);
      expect((error as Error).message).toMatch(new RegExp(`^clean refuses .* in ${schema}, a system schema; it works on user tables only$`));
    }
    await expect(load('lead_dedupe.lead_dedupe_runs')).rejects.toThrow(
      new UsageError("clean refuses lead_dedupe.lead_dedupe_runs: it is in lead_dedupe, lead-dedupe's own archive schema"),
    );
    await expect(load('target_checks.v_leads')).rejects.toThrow(new CatalogError('target_checks.v_leads is a view (clean needs a table)'));
    await expect(load('target_checks.v_leads', 'scan')).rejects.toThrow(new CatalogError('target_checks.v_leads is a view (scan needs a table)'));
    await expect(load('target_checks.mv_leads')).rejects.toThrow(new CatalogError('target_checks.mv_leads is a materialized view (clean needs a table)'));
  });
});
