import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seed } from '../../src/seed/seed.js';
import { dedupeDevicePhone, uniqueConstraintsOf, uniqueIndexesOf } from '../support/constraint-fixtures.js';
import { assertBuilt, PRINTED_INVOCATION, runCli } from '../support/cli.js';
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

  it('exit 3 while duplicates remain, dry run or --execute: the count on one line, the clean command on its own, nothing on stdout', async () => {
    const oracle = await sqlOracle(test, 'leads', ['device_id', 'phone'], true);
    for (const execute of [[], ['--execute']]) {
      expect(await cli(['constraint', 'add', '--key', 'device-phone', ...execute, ...db])).toEqual({
        code: 3,
        stdout: '',
        stderr:
          `lead-dedupe: ${oracle.groups} duplicate group(s) (${oracle.surplus} surplus row(s)) under key device-phone on public.leads; ` +
          'a unique index cannot be built until they are removed; review the plan with the clean dry run below, then run it with --execute\n' +
          `  ${PRINTED_INVOCATION} clean -d ${test.url!} --key device-phone\n`,
      });
    }
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

  it('exit 2 for a user who does not own the table, one line naming the owner, before any statement on the table (not a raw 42501)', async () => {
    await test.query(`create role ${role} login`);
    const url = new URL(test.url!);
    url.username = role;
    const [owner] = await test.query<{ owner: string }>(
      `select r.rolname as owner from pg_class c join pg_roles r on r.oid = c.relowner where c.oid = 'leads'::regclass`,
    );
    const ownerLine = new RegExp(
      `^lead-dedupe: database user ${role} does not own public\\.leads: (constraint|index) add builds an index on it, which needs its owner \\(${owner!.owner}\\) or a member of that role; run it as ${owner!.owner}, or as ${owner!.owner}: .*; nothing was changed\\n$`,
    );
    // no rights at all (the plan would fail reading the table), then SELECT only (the build would fail: "must be owner")
    for (const grant of [null, `grant select on leads to ${role}`]) {
      if (grant !== null) await test.query(grant);
      for (const args of [
        ['constraint', 'add', '--key', 'device-phone'],
        ['constraint', 'add', '--key', 'device-phone', '--execute'],
        ['index', 'add', '--key', 'device-phone', '--execute'],
      ]) {
        const run = await cli([...args, '--database', url.toString()]);
        expect({ grant, args, code: run.code, stdout: run.stdout }).toEqual({ grant, args, code: 2, stdout: '' });
        expect(run.stderr).toMatch(ownerLine);
      }
    }
    expect((await uniqueIndexesOf(test, 'leads')).map((i) => i.name)).toEqual(['leads_pkey']);
    await test.query(`revoke select on leads from ${role}`);
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

  it('after a dedupe, the dry run: the rows it counted, each step with its lock, the statements --print-sql prints; nothing built', async () => {
    await dedupeDevicePhone(test, 'leads');
    const [{ n: rows }] = (await test.query<{ n: number }>('select count(*)::int as n from leads')) as [{ n: number }];
    const run = await cli(['constraint', 'add', '--key', 'device-phone', ...db], { COLUMNS: '80' });
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const lines = run.stdout.split('\n');
    expect(lines.slice(0, 2)).toEqual([
      'would add unique constraint "leads_device_id_phone_key" on public.leads for key',
      '  device-phone (device_id, phone; NULLs distinct)',
    ]);
    expect(lines).toContain(`no duplicates under the key now: scan's count found 0 groups in ${rows.toLocaleString('en-US')} rows`);
    expect(lines.filter((line) => line.startsWith('   lock: '))).toHaveLength(2);
    expect(lines.at(-2)).toBe('dry run: nothing changed; pass --execute to run these statements');
    // the statements, each whole on its line even at 80 columns: what --print-sql prints and --execute runs
    expect(lines.filter((line) => /^ {3}\S.*;$/.test(line) && !line.startsWith('   lock: ')).map((line) => line.trim())).toEqual([
      'create unique index concurrently "leads_device_id_phone_key" on "public"."leads" ("device_id", "phone");',
      'begin;',
      "set local lock_timeout = '5s';",
      'alter table "public"."leads" add constraint "leads_device_id_phone_key" unique using index "leads_device_id_phone_key";',
      'commit;',
    ]);
    expect((await uniqueIndexesOf(test, 'leads')).map((i) => i.name)).toEqual(['leads_pkey']);
    const json = JSON.parse((await cli(['constraint', 'add', '--key', 'device-phone', '--format', 'json', ...db])).stdout) as Record<string, unknown>;
    expect(json).toMatchObject({ outcome: 'planned', rowsChecked: rows, name: 'leads_device_id_phone_key' });
  });

  it('exit 0 with --execute: creates the constraint, status shows device-phone protected, a second add is a no-op', async () => {
    // 200 columns: the first line whole (at the default 100 it wraps)
    const added = await cli(['constraint', 'add', '--key', 'device-phone', '--execute', ...db], { COLUMNS: '200' });
    expect(added).toMatchObject({ code: 0, stderr: '' });
    expect(added.stdout.split('\n')[0]).toBe(
      'created unique constraint "leads_device_id_phone_key" on public.leads for key device-phone (device_id, phone; NULLs distinct)',
    );
    expect(await uniqueConstraintsOf(test, 'leads')).toEqual([{ name: 'leads_device_id_phone_key', def: 'UNIQUE (device_id, phone)' }]);

    const status = await cli(['constraint', 'status', '--format', 'json', ...db]);
    expect(status.code).toBe(0);
    const report = JSON.parse(status.stdout) as { keys: { key: { name: string }; protectedBy: string[] }[] };
    expect(report.keys.find((k) => k.key.name === 'device-phone')?.protectedBy).toEqual(['leads_device_id_phone_key']);

    expect(await cli(['constraint', 'add', '--key', 'device-phone', '--execute', ...db], { COLUMNS: '200' })).toEqual({
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
