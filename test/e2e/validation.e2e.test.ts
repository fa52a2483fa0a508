import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDatabaseTarget } from '../../src/db/database-target.js';
import { withDatabase } from '../../src/db/with-database.js';
import { assertBuilt, runCli } from '../support/cli.js';
import { SERVER_URL, TEST_TARGETS, type TestDatabase, underUserPath } from '../support/test-database.js';

/**
 * Numbers, names and columns the binary must refuse with exit 2 and one
 * line on stderr, before anything changes. On the server when
 * TEST_DATABASE_URL is set, else on an embedded PGlite directory.
 */
describe(`validation through the binary (${SERVER_URL ? 'server' : 'PGlite directory'})`, () => {
  let dir: string;
  let database: string;
  let server: TestDatabase | undefined;
  const cli = (...args: string[]) => runCli([...args, '--database', database], { cwd: dir, env: { LEAD_DEDUPE_DEBUG: '' } });

  async function query<R>(text: string): Promise<R[]> {
    if (server) return server.query<R>(text);
    return withDatabase(parseDatabaseTarget(database), (db) => underUserPath(db, async (connection) => (await sql.raw<R>(text).execute(connection)).rows));
  }
  const checksum = async () => (await query<{ md5: string }>(`select md5(string_agg(t::text, ',' order by id)) as md5 from leads t`))[0]!.md5;

  beforeAll(async () => {
    assertBuilt();
    dir = mkdtempSync(join(tmpdir(), 'lead-dedupe-validation-'));
    server = SERVER_URL ? await TEST_TARGETS.find((t) => t.label === 'postgres')!.open() : undefined;
    database = server?.url ?? `pglite:${join(dir, 'db')}`;
    const seeded = await runCli(['seed', '--database', database, '--rows', '500']);
    expect(seeded.code, seeded.stderr).toBe(0);
    await query(`create table no_pk (id int, device_id int, phone text, created_at timestamptz)`);
    await query(`insert into no_pk select g % 3, 1, '60123', now() from generate_series(1, 9) g`);
    await query(`create table no_created (id int primary key, device_id int, phone text, label text)`);
    await query(`insert into no_created select g, 1, '60123', 'x' from generate_series(1, 4) g`);
    await query(`create view leads_view as select * from leads`);
  });
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const huge = `1${'0'.repeat(400)}`;
  const int4 = (flag: string, got: string, min = 1) => `lead-dedupe: ${flag} takes a whole number from ${min} to 2147483647; got "${got}"\n`;

  it.each([
    [['clean', '--key', 'device-phone', '--batch-size', '9223372036854775807'], int4('--batch-size', '9223372036854775807')],
    [['clean', '--key', 'device-phone', '--batch-size', '10000000000000000000'], int4('--batch-size', '10000000000000000000')],
    [['clean', '--key', 'device-phone', '--batch-size', '0'], int4('--batch-size', '0')],
    [['clean', '--key', 'device-phone', '--max-groups', huge], int4('--max-groups', `${huge.slice(0, 40)}…`)],
    [['clean', '--key', 'device-phone', '--sample', huge], int4('--sample', `${huge.slice(0, 40)}…`, 0)],
    [['clean', '--key', 'device-phone', '--retries', '1000'], 'lead-dedupe: --retries takes a whole number from 0 to 100; got "1000"\n'],
    [['scan', '--key', 'device-phone', '--top', huge], int4('--top', `${huge.slice(0, 40)}…`, 0)],
    [['runs', '--limit', '99999999999999999999'], int4('--limit', '99999999999999999999')],
    [['runs', '--limit', huge], int4('--limit', `${huge.slice(0, 40)}…`)],
    [['restore', '99999999999999999999'], 'lead-dedupe: the run id takes a whole number from 1 to 9007199254740991; got "99999999999999999999"\n'],
    [
      ['clean', '--key', 'device-phone', '--lock-timeout', '597h'],
      'lead-dedupe: --lock-timeout takes a duration from 1ms to 2147483647ms such as 500ms, 5s, 2m or 1h (a bare number is ms); got "597h"\n',
    ],
    [
      ['constraint', 'add', '--key', 'device-phone', '--lock-timeout', '0'],
      'lead-dedupe: --lock-timeout takes a duration from 1ms to 2147483647ms such as 500ms, 5s, 2m or 1h (a bare number is ms); got "0"\n',
    ],
  ])('%#: exit 2, one line', async (args, stderr) => {
    const before = await checksum();
    expect(await cli(...args)).toEqual({ code: 2, stdout: '', stderr });
    expect(await checksum()).toBe(before);
  });

  it('numbers from the config file go through the same parser, named by their setting', async () => {
    const config = join(dir, 'huge.json');
    writeFileSync(config, JSON.stringify({ commands: { clean: { batchSize: '9223372036854775807', lockTimeout: '2m' } } }));
    expect(await cli('clean', '--key', 'device-phone', '--config', config)).toEqual({
      code: 2,
      stdout: '',
      stderr: 'lead-dedupe: config "commands.clean.batchSize" takes a whole number from 1 to 2147483647; got "9223372036854775807"\n',
    });
  });

  it('constraint add takes the same durations as clean (2m), handed to PostgreSQL as 2min', async () => {
    const run = await cli('constraint', 'add', '--key', 'device-phone', '--print-sql', '--lock-timeout', '2m');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("set local lock_timeout = '2min';");
  });

  it('a misspelt or non-date --created-column is exit 2; a missing default created_at is said on stderr and in the plan', async () => {
    const misspelt = await cli('clean', '--key', 'device-phone', '--created-column', 'creatd_at');
    expect(misspelt).toMatchObject({ code: 2, stdout: '' });
    expect(misspelt.stderr).toMatch(
      /^lead-dedupe: created column "creatd_at" not found in public\.leads \(did you mean "created_at"\?\); columns: id, device_id, .*created_at.*\n$/,
    );
    expect(await cli('scan', '--key', 'device-phone', '--created-column', 'name')).toEqual({
      code: 2,
      stdout: '',
      stderr: 'lead-dedupe: created column "name" of public.leads is text; it must be a date/time column (timestamp, timestamptz or date)\n',
    });
    const fallback = await cli('clean', '--table', 'no_created', '--key', 'device_id,phone', '--keep', 'newest', '--format', 'json');
    expect(fallback.code, fallback.stderr).toBe(0);
    expect(fallback.stderr).toBe('lead-dedupe: no created_at column: oldest/newest by id (name a date/time column with --created-column)\n');
    const plan = JSON.parse(fallback.stdout);
    expect({ keeperOrder: plan.keeperOrder, keeper: plan.sample[0].keeper }).toEqual({ keeperOrder: 'highest id first (no created_at column)', keeper: '4' });
    const table = await cli('clean', '--key', 'device-phone');
    expect(table.stdout).toMatch(/│ keeper order +│ created_at oldest first, then lowest id +│/);
  });

  it('an id column without a unique index is refused by clean (exit 2), scan still reads', async () => {
    const before = await query(`select count(*)::int as n from no_pk`);
    expect(await cli('clean', '--table', 'no_pk', '--key', 'device_id,phone', '--execute')).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'lead-dedupe: clean needs a unique id column: public.no_pk has no primary key or unique index on exactly "id" (valid, without WHERE or expressions); ' +
        'add one, or name a unique column with --id-column\n',
    });
    expect(await query(`select count(*)::int as n from no_pk`)).toEqual(before);
    expect((await cli('scan', '--table', 'no_pk', '--key', 'device_id,phone')).code).toBe(0);
  });

  it('system catalogs and views are refused by name', async () => {
    expect(await cli('clean', '--table', 'pg_catalog.pg_class', '--key', 'relnamespace', '--mode', 'delete')).toEqual({
      code: 2,
      stdout: '',
      stderr: 'lead-dedupe: clean refuses pg_catalog.pg_class: it is in pg_catalog, a system schema; it works on user tables only\n',
    });
    expect((await cli('constraint', 'add', '--table', 'pg_class', '--key', 'relnamespace', '--id-column', 'oid')).stderr).toBe(
      'lead-dedupe: constraint add refuses pg_catalog.pg_class: it is in pg_catalog, a system schema; it works on user tables only\n',
    );
    expect(await cli('clean', '--table', 'leads_view', '--key', 'device-phone')).toEqual({
      code: 2,
      stdout: '',
      stderr: 'lead-dedupe: public.leads_view is a view (clean needs a table)\n',
    });
  });
});
