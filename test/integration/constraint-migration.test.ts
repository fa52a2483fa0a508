import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeMigrationFiles } from '../../src/cli/migration-files.js';
import { addConstraint, type ConstraintAddResult } from '../../src/core/constraint/apply-add.js';
import { dropConstraint } from '../../src/core/constraint/drop.js';
import { planConstraintMigration, type ConstraintMigration } from '../../src/core/constraint/plan-migration.js';
import { loadLeadTable } from '../../src/core/lead-table.js';
import { UsageError } from '../../src/errors.js';
import { renderMigrationFiles, type MigrationFormat } from '../../src/render/constraint-migration/index.js';
import { e164Settings, keyFor } from '../support/constraint-fixtures.js';
import { FLYWAY_FILE, GOLANG_MIGRATE_FILE, parseGoose, splitSqlStatements } from '../support/migration-grammar.js';
import { TEST_TARGETS, type TestDatabase } from '../support/test-database.js';

/** A lead table with no duplicates under device-phone, nor under device + phone as e164 (MY); a few NULL phones. */
function fixture(table: string): string {
  return `create table ${table} (id bigserial primary key, device_id int, user_id int, phone text, niche text, created_at timestamptz not null default now());
insert into ${table} (device_id, phone, niche) select g % 97, case when g % 50 = 0 then null else '+6012' || lpad((g % 89)::text, 7, '0') end, 'n' from generate_series(1, 500) g;`;
}

const NOW = new Date('2026-12-06T20:00:00Z');

async function migrationFor(test: TestDatabase, table: string, keyName: string, e164 = false): Promise<ConstraintMigration> {
  const key = await keyFor(test.database, table, keyName, e164 ? e164Settings : {});
  return planConstraintMigration(test.database, { key });
}

async function writeFormat(migration: ConstraintMigration, format: MigrationFormat, dir: string, name = 'add_key'): Promise<string[]> {
  return writeMigrationFiles(dir, renderMigrationFiles(migration, format, { name, version: '100', now: NOW }), { overwrite: false });
}

/** Hand-written catalog queries: every index and constraint on the table, as PostgreSQL describes them. */
async function catalogOf(test: TestDatabase, table: string): Promise<{ indexes: unknown[]; constraints: unknown[] }> {
  const indexes =
    await test.query(`select c.relname as name, pg_get_indexdef(i.indexrelid) as def, i.indisunique as unique, i.indisvalid as valid, i.indisready as ready
    from pg_index i join pg_class c on c.oid = i.indexrelid where i.indrelid = 'public.${table}'::regclass order by 1`);
  const constraints =
    await test.query(`select conname as name, contype as type, pg_get_constraintdef(oid) as def, condeferrable as deferrable, convalidated as validated,
      (select relname from pg_class where oid = conindid) as index
    from pg_constraint where conrelid = 'public.${table}'::regclass order by 1`);
  return { indexes, constraints };
}

const upStatements = (migration: ConstraintMigration) => migration.up.flatMap((step) => step.statements.map((statement) => statement.sql));
const downStatements = (migration: ConstraintMigration) => migration.down.flatMap((step) => step.statements.map((statement) => statement.sql));

describe.each(TEST_TARGETS.filter((t) => t.available))('constraint add --migration files on $label', (target) => {
  let test: TestDatabase;
  let dir: string;
  let migration: ConstraintMigration;
  const dirs: string[] = [];

  beforeAll(async () => {
    test = await target.open();
    await test.exec(fixture('leads'));
    migration = await migrationFor(test, 'leads', 'device-phone');
  });
  afterAll(async () => {
    await test?.close();
    for (const made of dirs) await rm(made, { recursive: true, force: true });
  });
  const fresh = async () => {
    dir = await mkdtemp(join(tmpdir(), 'lead-dedupe-migration-'));
    dirs.push(dir);
    return dir;
  };

  it("carries constraint add's steps in order: guard, invalid-leftover drop, pre-flight, CONCURRENTLY build, attach under lock_timeout", () => {
    expect(migration.up.map((step) => step.purpose)).toEqual(['guard', 'drop-invalid', 'preflight', 'build', 'attach']);
    expect(upStatements(migration).slice(1)).toEqual([
      'drop index concurrently if exists "public"."leads_device_id_phone_key"',
      expect.stringMatching(/^do \$lead_dedupe\$\n[\s\S]*raise exception 'lead-dedupe: % duplicate group\(s\)/),
      'create unique index concurrently "leads_device_id_phone_key" on "public"."leads" ("device_id", "phone")',
      'do $lead_dedupe$\nbegin\n  set local lock_timeout = \'5s\';\n  alter table "public"."leads" add constraint "leads_device_id_phone_key" unique using index "leads_device_id_phone_key";\nend\n$lead_dedupe$',
    ]);
    expect(downStatements(migration)).toEqual([
      'do $lead_dedupe$\nbegin\n  set local lock_timeout = \'5s\';\n  alter table "public"."leads" drop constraint "leads_device_id_phone_key";\nend\n$lead_dedupe$',
    ]);
    // CONCURRENTLY only in statements sent alone; everything else is one DO block.
    for (const statement of [...migration.up, ...migration.down].flatMap((step) => step.statements)) {
      expect(statement.alone).toBe(statement.sql.includes('concurrently'));
      if (!statement.alone) expect(statement.sql).toMatch(/^do \$lead_dedupe\$\n/);
    }
  });

  it('plain SQL: up.sql and down.sql hold the statements in order, no BEGIN/COMMIT', async () => {
    expect(await writeFormat(migration, 'sql', await fresh())).toEqual(['add_key.up.sql', 'add_key.down.sql']);
    expect(splitSqlStatements(await readFile(join(dir, 'add_key.up.sql'), 'utf8'))).toEqual(upStatements(migration));
    expect(splitSqlStatements(await readFile(join(dir, 'add_key.down.sql'), 'utf8'))).toEqual(downStatements(migration));
  });

  it('goose: NO TRANSACTION, each statement between StatementBegin/End, Up then Down', async () => {
    expect(await writeFormat(migration, 'goose', await fresh())).toEqual(['100_add_key.sql']);
    const text = await readFile(join(dir, '100_add_key.sql'), 'utf8');
    expect(text.split('\n')[0]).toBe('-- +goose NO TRANSACTION');
    const parsed = parseGoose(text);
    expect(parsed.useTx).toBe(false);
    expect(parsed.up).toEqual(upStatements(migration).map((sql) => `${sql};`));
    expect(parsed.down).toEqual(downStatements(migration).map((sql) => `${sql};`));
    expect(text.match(/^-- \+goose StatementBegin$/gm)).toHaveLength(upStatements(migration).length + downStatements(migration).length);
  });

  it('golang-migrate: one statement per version file, consecutive versions, the last down is constraint drop', async () => {
    const files = await writeFormat(migration, 'golang-migrate', await fresh());
    const parsed = files.map((file) => ({ file, match: GOLANG_MIGRATE_FILE.exec(file) }));
    expect(parsed.every((p) => p.match !== null)).toBe(true);
    const versions = [...new Set(parsed.map((p) => Number(p.match![1])))];
    expect(versions).toEqual([100, 101, 102, 103, 104]);
    const ups: string[] = [];
    for (const version of versions) {
      const up = parsed.find((p) => Number(p.match![1]) === version && p.match![3] === 'up')!.file;
      const down = parsed.find((p) => Number(p.match![1]) === version && p.match![3] === 'down')!.file;
      const upStatementsOfFile = splitSqlStatements(await readFile(join(dir, up), 'utf8'));
      const downStatementsOfFile = splitSqlStatements(await readFile(join(dir, down), 'utf8'));
      expect(upStatementsOfFile).toHaveLength(1);
      expect(downStatementsOfFile).toHaveLength(1);
      ups.push(upStatementsOfFile[0]!);
      if (version === 104) expect(downStatementsOfFile).toEqual(downStatements(migration));
      if (version === 103) expect(downStatementsOfFile).toEqual(['drop index concurrently if exists "public"."leads_device_id_phone_key"']);
    }
    expect(ups).toEqual(upStatements(migration));
  });

  it('Flyway: V and U scripts with a script config file executeInTransaction=false', async () => {
    const files = await writeFormat(migration, 'flyway', await fresh());
    expect(files).toEqual(['V100__add_key.sql', 'V100__add_key.sql.conf', 'U100__add_key.sql', 'U100__add_key.sql.conf']);
    expect(files.filter((file) => file.endsWith('.sql')).every((file) => FLYWAY_FILE.test(file))).toBe(true);
    for (const conf of files.filter((file) => file.endsWith('.conf'))) expect(await readFile(join(dir, conf), 'utf8')).toBe('executeInTransaction=false\n');
    expect(splitSqlStatements(await readFile(join(dir, 'V100__add_key.sql'), 'utf8'))).toEqual(upStatements(migration));
    expect(splitSqlStatements(await readFile(join(dir, 'U100__add_key.sql'), 'utf8'))).toEqual(downStatements(migration));
    // Flyway replaces ${…} placeholders in scripts: none may appear.
    for (const file of files) expect(await readFile(join(dir, file), 'utf8')).not.toContain('${');
  });

  it('sqitch: deploy/revert/verify scripts and a sqitch.plan entry; a second change is appended, the same one refused', async () => {
    const files = await writeFormat(migration, 'sqitch', await fresh());
    expect(files).toEqual(['deploy/add_key.sql', 'revert/add_key.sql', 'verify/add_key.sql', 'sqitch.plan']);
    expect(splitSqlStatements(await readFile(join(dir, 'deploy/add_key.sql'), 'utf8'))).toEqual(upStatements(migration));
    expect(splitSqlStatements(await readFile(join(dir, 'revert/add_key.sql'), 'utf8'))).toEqual(downStatements(migration));
    expect(splitSqlStatements(await readFile(join(dir, 'verify/add_key.sql'), 'utf8'))).toEqual([migration.verify]);
    const entry =
      'add_key 2026-12-06T20:00:00Z lead-dedupe <lead-dedupe@localhost> # unique constraint leads_device_id_phone_key on public.leads (key device-phone)';
    expect(await readFile(join(dir, 'sqitch.plan'), 'utf8')).toBe(`%syntax-version=1.0.0\n%project=lead_dedupe\n\n${entry}\n`);
    await writeFormat(migration, 'sqitch', dir, 'add_key_again');
    expect((await readFile(join(dir, 'sqitch.plan'), 'utf8')).split('\n').filter((line) => line.startsWith('add_key'))).toEqual([
      entry,
      entry.replace('add_key', 'add_key_again'),
    ]);
    // Only the plan names the change: refused before anything is written.
    await rm(join(dir, 'deploy/add_key.sql'));
    const refused = await writeFormat(migration, 'sqitch', dir).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(UsageError);
    expect((refused as Error).message).toContain('sqitch.plan lists the change add_key already');
    expect(await readdir(join(dir, 'deploy'))).toEqual(['add_key_again.sql']);
  });

  it('refuses existing files (exit 2, nothing written) unless overwrite; a missing folder is refused before anything', async () => {
    await writeFormat(migration, 'sql', await fresh());
    await writeFile(join(dir, 'add_key.up.sql'), 'mine\n');
    await rm(join(dir, 'add_key.down.sql'));
    const refused = await writeFormat(migration, 'sql', dir).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(UsageError);
    expect(refused).toMatchObject({ exitCode: 2 });
    expect((refused as Error).message).toBe(`--migration-dir: add_key.up.sql exist(s) already in ${dir}; --overwrite replaces them; nothing was written`);
    expect(await readFile(join(dir, 'add_key.up.sql'), 'utf8')).toBe('mine\n');
    expect(await readdir(dir)).toEqual(['add_key.up.sql']);
    const output = renderMigrationFiles(migration, 'sql', { name: 'add_key', version: '1', now: NOW });
    await writeMigrationFiles(dir, output, { overwrite: true });
    expect(splitSqlStatements(await readFile(join(dir, 'add_key.up.sql'), 'utf8'))).toEqual(upStatements(migration));
    expect((await readdir(dir)).sort()).toEqual(['add_key.down.sql', 'add_key.up.sql']);
  });

  it('planning reads the catalog only: nothing in the database changes', async () => {
    const before = await test.query(`select relname, relkind from pg_class where relnamespace = 'public'::regnamespace order by 1`);
    const catalog = await catalogOf(test, 'leads');
    await migrationFor(test, 'leads', 'device-phone');
    await migrationFor(test, 'leads', 'device-phone', true);
    expect(await test.query(`select relname, relkind from pg_class where relnamespace = 'public'::regnamespace order by 1`)).toEqual(before);
    expect(await catalogOf(test, 'leads')).toEqual(catalog);
  });

  it('Flyway: refuses (exit 2) a statement holding ${, which Flyway would replace as a placeholder', async () => {
    await test.exec(`create table leads_brace (id bigserial primary key, device_id int, "code\${x}" text, created_at timestamptz not null default now());`);
    const braced = await migrationFor(test, 'leads_brace', `device_id,code\${x}`);
    const error = (() => {
      try {
        return renderMigrationFiles(braced, 'flyway', { name: 'add_key', version: '1', now: NOW });
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toContain('Flyway reads as a placeholder');
    expect(renderMigrationFiles(braced, 'sql', { name: 'add_key', version: '1', now: NOW }).files).toHaveLength(2);
  });

  it('refuses (exit 2) a partitioned table: its build is not written as a migration yet', async () => {
    await test.exec(`create table leads_parted (id bigserial, device_id int, phone text, niche text not null, created_at timestamptz not null default now(), primary key (id, niche)) partition by list (niche);
create table leads_parted_a partition of leads_parted for values in ('a');`);
    const error = await migrationFor(test, 'leads_parted', 'device_id,phone,niche').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toBe(
      'public.leads_parted is partitioned: --migration does not write partitioned builds yet; run constraint add against the database',
    );
  });

  it('refuses (exit 2) a key another unique constraint enforces here already', async () => {
    await test.exec(`${fixture('leads_other')}\nalter table leads_other add constraint leads_other_mine unique (device_id, phone);`);
    const error = await migrationFor(test, 'leads_other', 'device-phone').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toContain('is already enforced here by "leads_other_mine"');
  });
});

const server = TEST_TARGETS.find((t) => t.label === 'postgres' && t.available);

function run(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd: options.cwd, env: { ...process.env, ...options.env } }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

const psql = (test: TestDatabase, file: string) => run('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', test.url!, '-f', file]);
const SQITCH_ENV = { SQITCH_USER_NAME: 'lead-dedupe test', SQITCH_USER_EMAIL: 'test@localhost' };
const sqitch = (test: TestDatabase, dir: string, ...args: string[]) =>
  run('sqitch', [...args, test.url!.replace(/^postgres(ql)?:\/\//, 'db:pg://')], { cwd: dir, env: SQITCH_ENV });

/** Sends a text as one simple-protocol query, as golang-migrate's postgres driver sends a file: PostgreSQL runs it as one implicit transaction. */
async function simpleQuery(test: TestDatabase, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: test.url! });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

describe.skipIf(server === undefined)('migration files run for real on the server: the catalog constraint add / constraint drop leave', () => {
  let viaFiles: TestDatabase;
  let viaTool: TestDatabase;
  const dirs: string[] = [];
  const freshDir = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lead-dedupe-migration-run-'));
    dirs.push(dir);
    return dir;
  };

  beforeAll(async () => {
    viaFiles = await server!.open();
    viaTool = await server!.open();
  });
  afterAll(async () => {
    await viaFiles?.close();
    await viaTool?.close();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  async function both(script: string): Promise<void> {
    await viaFiles.exec(script);
    await viaTool.exec(script);
  }
  async function toolAdd(table: string, key: string, e164 = false): Promise<ConstraintAddResult> {
    return addConstraint(viaTool.database, { key: await keyFor(viaTool.database, table, key, e164 ? e164Settings : {}) });
  }
  async function toolDrop(table: string, name: string): Promise<void> {
    const leadTable = await loadLeadTable(viaTool.database.db, { table, idColumn: 'id', createdColumn: 'created_at' });
    await dropConstraint(viaTool.database, { table: leadTable, name, execute: true });
  }
  async function expectSameCatalog(table: string): Promise<void> {
    expect(await catalogOf(viaFiles, table)).toEqual(await catalogOf(viaTool, table));
  }

  it.each([
    {
      label: 'device-phone (a constraint)',
      table: 'leads_plain',
      key: 'device-phone',
      e164: false,
      name: 'leads_plain_device_id_phone_key',
      def: 'UNIQUE (device_id, phone)',
    },
    {
      label: 'device + phone as e164 (an expression index)',
      table: 'leads_e164',
      key: 'device-phone',
      e164: true,
      name: 'leads_e164_device_id_phone_e164_key',
      def: null,
    },
  ])('plain SQL with psql, $label: up, down, up again', async ({ table, key, e164, name, def }) => {
    await both(fixture(table));
    const dir = await freshDir();
    await writeFormat(await migrationFor(viaTool, table, key, e164), 'sql', dir);
    const up = await psql(viaFiles, join(dir, 'add_key.up.sql'));
    expect(up).toMatchObject({ code: 0 });
    await toolAdd(table, key, e164);
    await expectSameCatalog(table);
    const after = await catalogOf(viaFiles, table);
    expect(after.indexes).toContainEqual(expect.objectContaining({ name, unique: true, valid: true, ready: true }));
    if (def !== null) expect(after.constraints).toContainEqual(expect.objectContaining({ name, type: 'u', def, index: name }));
    else expect(after.constraints.map((c) => (c as { name: string }).name)).toEqual([`${table}_pkey`]);

    expect(await psql(viaFiles, join(dir, 'add_key.down.sql'))).toMatchObject({ code: 0 });
    await toolDrop(table, name);
    await expectSameCatalog(table);
    expect((await catalogOf(viaFiles, table)).indexes.map((i) => (i as { name: string }).name)).toEqual([`${table}_pkey`]);

    expect(await psql(viaFiles, join(dir, 'add_key.up.sql'))).toMatchObject({ code: 0 });
    await toolAdd(table, key, e164);
    await expectSameCatalog(table);

    // applied twice: the guard stops it before its drop, and the constraint (or index) stays
    const twice = await psql(viaFiles, join(dir, 'add_key.up.sql'));
    expect(twice.code).not.toBe(0);
    expect(twice.stderr).toContain(def !== null ? `"${name}" on public.${table} is already a constraint` : `"${name}" on public.${table} exists and is valid`);
    await expectSameCatalog(table);
  });

  it('sqitch for real: deploy (with verify), verify, revert, deploy again', async () => {
    await both(fixture('leads_sqitch'));
    const dir = await freshDir();
    await writeFormat(await migrationFor(viaTool, 'leads_sqitch', 'device-phone'), 'sqitch', dir);
    const deploy = await sqitch(viaFiles, dir, 'deploy', '--verify');
    expect(deploy).toMatchObject({ code: 0 });
    expect(deploy.stdout).toContain('+ add_key .. ok');
    await toolAdd('leads_sqitch', 'device-phone');
    await expectSameCatalog('leads_sqitch');
    expect(await sqitch(viaFiles, dir, 'verify')).toMatchObject({ code: 0 });

    expect(await sqitch(viaFiles, dir, 'revert', '-y')).toMatchObject({ code: 0 });
    await toolDrop('leads_sqitch', 'leads_sqitch_device_id_phone_key');
    await expectSameCatalog('leads_sqitch');
    // verify fails once the constraint is gone (the verify script alone, through psql as sqitch runs it)
    expect((await psql(viaFiles, join(dir, 'verify/add_key.sql'))).stderr).toContain(
      'lead-dedupe: no unique constraint "leads_sqitch_device_id_phone_key" on public.leads_sqitch',
    );

    expect(await sqitch(viaFiles, dir, 'deploy')).toMatchObject({ code: 0 });
    await toolAdd('leads_sqitch', 'device-phone');
    await expectSameCatalog('leads_sqitch');
  });

  it('the pre-flight fails the migration with the count while duplicates remain (psql and sqitch), nothing built', async () => {
    await viaFiles.exec(`${fixture('leads_dups')}
insert into leads_dups (device_id, phone) values (1001, 'a'), (1001, 'a'), (1002, 'b'), (1002, 'b'), (1002, 'b'), (1003, 'c'), (1003, 'c'), (1004, null), (1004, null);`);
    // built by hand: 3 groups with 1 + 2 + 1 surplus rows; the NULL phones are distinct (NULLs never equal without --nulls-equal)
    const message = 'lead-dedupe: 3 duplicate group(s) (4 surplus row(s)) under key device-phone on public.leads_dups';
    const dir = await freshDir();
    await writeFormat(await migrationFor(viaFiles, 'leads_dups', 'device-phone'), 'sql', dir);
    const up = await psql(viaFiles, join(dir, 'add_key.up.sql'));
    expect(up.code).not.toBe(0);
    expect(up.stderr).toContain(message);
    expect((await catalogOf(viaFiles, 'leads_dups')).indexes.map((i) => (i as { name: string }).name)).toEqual(['leads_dups_pkey']);

    const sqitchDir = await freshDir();
    // a sqitch project of its own (the registry in this database holds the other test's), its plan there already
    await writeFile(join(sqitchDir, 'sqitch.plan'), '%syntax-version=1.0.0\n%project=dups_check\n\n');
    await writeFormat(await migrationFor(viaFiles, 'leads_dups', 'device-phone'), 'sqitch', sqitchDir);
    const deploy = await sqitch(viaFiles, sqitchDir, 'deploy');
    expect(deploy.code).not.toBe(0);
    expect(deploy.stderr).toContain(message);
    expect((await catalogOf(viaFiles, 'leads_dups')).indexes.map((i) => (i as { name: string }).name)).toEqual(['leads_dups_pkey']);
  });

  it('drops an INVALID leftover of a failed build first, as constraint add does', async () => {
    const leftover = `insert into leads_left (device_id, phone) values (2001, 'x'), (2001, 'x');`;
    await both(`${fixture('leads_left')}\n${leftover}`);
    for (const test of [viaFiles, viaTool]) {
      const failed = await test
        .query('create unique index concurrently leads_left_device_id_phone_key on leads_left (device_id, phone)')
        .catch((e: unknown) => e);
      expect(failed).toBeInstanceOf(Error);
      await test.query(`delete from leads_left where device_id = 2001 and id > (select min(id) from leads_left where device_id = 2001)`);
    }
    expect((await catalogOf(viaFiles, 'leads_left')).indexes).toContainEqual(expect.objectContaining({ name: 'leads_left_device_id_phone_key', valid: false }));
    const dir = await freshDir();
    await writeFormat(await migrationFor(viaFiles, 'leads_left', 'device-phone'), 'sql', dir);
    expect(await psql(viaFiles, join(dir, 'add_key.up.sql'))).toMatchObject({ code: 0 });
    expect(await toolAdd('leads_left', 'device-phone')).toMatchObject({ droppedInvalid: 'leads_left_device_id_phone_key' });
    await expectSameCatalog('leads_left');
  });

  it("the guard stops the migration before its drop when the name is another table's index", async () => {
    await viaFiles.exec(`${fixture('leads_guard')}
create table not_leads (device_id int, phone text);
create index leads_guard_device_id_phone_key on not_leads (device_id);`);
    await viaTool.exec(fixture('leads_guard'));
    const dir = await freshDir();
    await writeFormat(await migrationFor(viaTool, 'leads_guard', 'device-phone'), 'sql', dir);
    const up = await psql(viaFiles, join(dir, 'add_key.up.sql'));
    expect(up.code).not.toBe(0);
    expect(up.stderr).toContain('lead-dedupe: "leads_guard_device_id_phone_key" in schema public is not an index on public.leads_guard');
    expect(await viaFiles.query(`select indexrelid::regclass::text as name from pg_index where indrelid = 'not_leads'::regclass`)).toEqual([
      { name: 'leads_guard_device_id_phone_key' },
    ]);
  });

  it('golang-migrate, goose and Flyway statements, sent as each tool sends them, leave the same catalog', async () => {
    await both(fixture('leads_tools'));
    const migration = await migrationFor(viaTool, 'leads_tools', 'device-phone');
    const name = 'leads_tools_device_id_phone_key';
    // golang-migrate: each file is one query (one implicit transaction), versions in order; down in reverse
    const gm = await freshDir();
    const files = (await writeFormat(migration, 'golang-migrate', gm)).sort(
      (a, b) => Number(GOLANG_MIGRATE_FILE.exec(a)![1]) - Number(GOLANG_MIGRATE_FILE.exec(b)![1]),
    );
    for (const file of files.filter((f) => f.endsWith('.up.sql'))) await simpleQuery(viaFiles, await readFile(join(gm, file), 'utf8'));
    await toolAdd('leads_tools', 'device-phone');
    await expectSameCatalog('leads_tools');
    for (const file of files.filter((f) => f.endsWith('.down.sql')).reverse()) await simpleQuery(viaFiles, await readFile(join(gm, file), 'utf8'));
    await toolDrop('leads_tools', name);
    await expectSameCatalog('leads_tools');
    // goose with NO TRANSACTION: each parsed statement on its own
    const goose = await freshDir();
    await writeFormat(migration, 'goose', goose);
    const parsed = parseGoose(await readFile(join(goose, '100_add_key.sql'), 'utf8'));
    for (const statement of parsed.up) await simpleQuery(viaFiles, statement);
    await toolAdd('leads_tools', 'device-phone');
    await expectSameCatalog('leads_tools');
    for (const statement of parsed.down) await simpleQuery(viaFiles, statement);
    await toolDrop('leads_tools', name);
    await expectSameCatalog('leads_tools');
    // Flyway with executeInTransaction=false: its parser's statements, each on its own
    const flyway = await freshDir();
    await writeFormat(migration, 'flyway', flyway);
    for (const statement of splitSqlStatements(await readFile(join(flyway, 'V100__add_key.sql'), 'utf8'))) await simpleQuery(viaFiles, statement);
    await toolAdd('leads_tools', 'device-phone');
    await expectSameCatalog('leads_tools');
  });
});
