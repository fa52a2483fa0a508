import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seed } from '../../src/seed/seed.js';
import { dedupeDevicePhone, uniqueConstraintsOf, uniqueIndexesOf } from '../support/constraint-fixtures.js';
import { assertBuilt, runCli } from '../support/cli.js';
import { sqlOracle } from '../support/oracle.js';
import { dropRole, SERVER_URL, TEST_TARGETS, type TestDatabase } from '../support/test-database.js';

const cli = (args: string[], env: NodeJS.ProcessEnv = {}) => runCli(args, { env: { LEAD_DEDUPE_DEBUG: '', ...env } });

describe.skipIf(!SERVER_URL)('lead-dedupe constraint, the built binary (server)', () => {
  let test: TestDatabase;
  let db: string[];
  const role = `ld_e2e_${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    assertBuilt();
    test = await TEST_TARGETS.find((t) => t.label === 'postgres')!.open();
    db = ['--database', test.url!];
    await seed(test.database, { table: 'leads', rows: 2000, scenario: 'production', replace: false });
  });
  afterAll(async () => {
    await test?.close();
    await dropRole(role);
  });

  it('exit 3 while duplicates remain: one line on stderr with the count and the clean command, nothing on stdout', async () => {
    const oracle = await sqlOracle(test, 'leads', ['device_id', 'phone'], true);
    expect(await cli(['constraint', 'add', '--key', 'device-phone', ...db])).toEqual({
      code: 3,
      stdout: '',
      stderr:
        `lead-dedupe: ${oracle.groups} duplicate group(s) (${oracle.surplus} surplus row(s)) under key device-phone on public.leads; ` +
        `a unique index cannot be built until they are removed: review the plan with lead-dedupe clean -d ${test.url!} --key device-phone, then run it with --execute\n`,
    });
    expect((await uniqueIndexesOf(test, 'leads')).map((i) => i.name)).toEqual(['leads_pkey']);
  });

  it('exit 2 for bad input, nothing built', async () => {
    const unknown = await cli(['constraint', 'add', '--key', 'nope', ...db]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^lead-dedupe: unknown key "nope"; presets: device-phone, .*\n$/);
    const missing = await cli(['constraint', 'add', '--key', 'device_id,nope', ...db]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(
      /^lead-dedupe: key device_id,nope: column "nope" not found in public\.leads( \(did you mean "[a-z_]+"\?\))?; columns: id, device_id, .*\n$/,
    );
    await test.query('create sequence taken_name');
    expect(await cli(['constraint', 'add', '--key', 'device-phone', '--name', 'taken_name', ...db])).toEqual({
      code: 2,
      stdout: '',
      stderr: 'lead-dedupe: the name "taken_name" already belongs to a sequence in schema public; choose another with --name\n',
    });
    expect((await cli(['constraint', 'drop', 'leads_pkey', '--execute', ...db])).code).toBe(2);
    expect((await uniqueIndexesOf(test, 'leads')).map((i) => i.name)).toEqual(['leads_pkey']);
  });

  it('exit 1 for a user without rights, with the server’s one-line reason', async () => {
    await test.query(`create role ${role} login`);
    const url = new URL(test.url!);
    url.username = role;
    const run = await cli(['constraint', 'add', '--key', 'device-phone', '--database', url.toString()]);
    expect(run).toMatchObject({ code: 1, stdout: '' });
    expect(run.stderr).toMatch(/^lead-dedupe: database error 42501: permission denied for table leads\n$/);
  });

  it('--print-sql prints the migration and changes nothing', async () => {
    const run = await cli(['constraint', 'add', '--key', 'device-phone', '--print-sql', ...db]);
    expect(run.code).toBe(0);
    const statements = run.stdout.split('\n').filter((line) => line !== '' && !line.startsWith('--'));
    expect(statements).toEqual([
      'create unique index concurrently "leads_device_id_phone_key" on "public"."leads" ("device_id", "phone");',
      'begin;',
      "set local lock_timeout = '5s';",
      'alter table "public"."leads" add constraint "leads_device_id_phone_key" unique using index "leads_device_id_phone_key";',
      'commit;',
    ]);
    expect((await uniqueIndexesOf(test, 'leads')).map((i) => i.name)).toEqual(['leads_pkey']);
  });

  it('exit 0 after a dedupe: creates the constraint, status shows device-phone protected, a second add is a no-op', async () => {
    await dedupeDevicePhone(test, 'leads');
    // 200 columns: the first line whole (at the default 100 it wraps)
    const added = await cli(['constraint', 'add', '--key', 'device-phone', ...db], { COLUMNS: '200' });
    expect(added).toMatchObject({ code: 0, stderr: '' });
    expect(added.stdout.split('\n')[0]).toBe(
      'created unique constraint "leads_device_id_phone_key" on public.leads for key device-phone (device_id, phone; NULLs distinct)',
    );
    expect(await uniqueConstraintsOf(test, 'leads')).toEqual([{ name: 'leads_device_id_phone_key', def: 'UNIQUE (device_id, phone)' }]);

    const status = await cli(['constraint', 'status', '--format', 'json', ...db]);
    expect(status.code).toBe(0);
    const report = JSON.parse(status.stdout) as { keys: { key: { name: string }; protectedBy: string[] }[] };
    expect(report.keys.find((k) => k.key.name === 'device-phone')?.protectedBy).toEqual(['leads_device_id_phone_key']);

    expect(await cli(['constraint', 'add', '--key', 'device-phone', ...db], { COLUMNS: '200' })).toEqual({
      code: 0,
      stdout:
        'already protected: unique constraint "leads_device_id_phone_key" on public.leads enforces key device-phone (device_id, phone; NULLs distinct); nothing to do\n',
      stderr: '',
    });
  });

  it('sql upsert prints a statement that runs against that constraint', async () => {
    const run = await cli(['sql', 'upsert', '--key', 'device-phone', '--on-duplicate', 'skip', '--insert-columns', 'device_id,user_id,phone', ...db]);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toContain('-- Arbiter: "leads_device_id_phone_key"');
    const statement = run.stdout
      .split('\n')
      .filter((line) => !line.startsWith('--'))
      .join('\n')
      .trim()
      .replace(/;$/, '');
    const client = new pg.Client({ connectionString: test.url! });
    await client.connect();
    try {
      const first = await client.query(statement, [900001, 1, '60123000001']);
      expect(first.rows).toEqual([{ id: expect.anything(), outcome: 'inserted' }]);
      expect((await client.query(statement, [900001, 1, '60123000001'])).rows).toEqual([{ id: first.rows[0].id, outcome: 'existed' }]);
    } finally {
      await client.end();
    }
  });

  it('drop is a dry run without --execute', async () => {
    const dry = await cli(['constraint', 'drop', 'leads_device_id_phone_key', ...db]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/dry run: nothing changed; pass --execute to drop it\n$/);
    expect((await uniqueConstraintsOf(test, 'leads')).map((c) => c.name)).toEqual(['leads_device_id_phone_key']);
    expect((await cli(['constraint', 'drop', 'leads_device_id_phone_key', '--execute', ...db])).code).toBe(0);
    expect(await uniqueConstraintsOf(test, 'leads')).toEqual([]);
  });
});
