import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { openDatabase } from '../../src/db/with-database.js';
import { seed } from '../../src/seed/seed.js';
import { runCli } from '../support/cli.js';
import { e164Oracle, sqlOracle } from '../support/oracle.js';
import { SERVER_URL, TEST_TARGETS, type TestDatabase } from '../support/test-database.js';

const server = TEST_TARGETS.find((t) => t.label === 'postgres')!;

describe.skipIf(!SERVER_URL)('lead-dedupe scan, the built binary against a server', () => {
  let test: TestDatabase;
  let db: string[];
  const dir = mkdtempSync(join(tmpdir(), 'lead-dedupe-e2e-'));

  beforeAll(async () => {
    test = await server.open();
    await seed(test.database, { table: 'leads', rows: 3000, scenario: 'production', replace: false });
    db = ['--database', test.url!];
  });
  afterAll(async () => test?.close());

  it('prints every preset as JSON with the documented field names and exits 0', async () => {
    const result = await runCli(['scan', ...db, '--format', 'json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(Object.keys(report)).toEqual(expect.arrayContaining(['table', 'rows', 'keys']));
    expect(report.table).toBe('public.leads');
    const key = report.keys[0];
    expect(Object.keys(key)).toEqual(
      expect.arrayContaining(['name', 'columns', 'normalize', 'nullsEqual', 'groups', 'rowsInGroups', 'surplus', 'largestGroup', 'sizes', 'top']),
    );
    const oracle = await sqlOracle(test, 'leads', ['device_id', 'phone'], true);
    expect({ groups: key.groups, rowsInGroups: key.rowsInGroups, surplus: key.surplus, largestGroup: key.largestGroup }).toEqual(oracle);
  });

  it.each([
    { flags: [], nullsDistinct: true, e164: false },
    { flags: ['--nulls-equal'], nullsDistinct: false, e164: false },
    { flags: ['--normalize', 'phone=e164', '--default-country', 'MY'], nullsDistinct: true, e164: true },
    { flags: ['--normalize', 'phone=e164', '--default-country', 'MY', '--nulls-equal'], nullsDistinct: false, e164: true },
  ])('scan --format json $flags matches the oracle for every preset', async ({ flags, nullsDistinct, e164 }) => {
    const result = await runCli(['scan', ...db, '--format', 'json', ...flags]);
    expect(result.code).toBe(0);
    for (const key of JSON.parse(result.stdout).keys) {
      const columns = key.columns as string[];
      const expected = e164 ? await e164Oracle(test, 'leads', columns, 'phone', 'MY', nullsDistinct) : await sqlOracle(test, 'leads', columns, nullsDistinct);
      expect({ groups: key.groups, rowsInGroups: key.rowsInGroups, surplus: key.surplus, largestGroup: key.largestGroup }, key.name).toEqual(expected);
    }
  });

  it('--fail-on-duplicates exits 3 and still prints the report; CSV has one row per key', async () => {
    const result = await runCli(['scan', ...db, '--key', 'device-phone', '--key', 'user-phone', '--format', 'csv', '--fail-on-duplicates']);
    expect(result.code).toBe(3);
    const rows = parse(result.stdout, { columns: true }) as Record<string, string>[];
    expect(rows.map((r) => r.key)).toEqual(['device-phone', 'user-phone']);
    expect(Number(rows[1]!.surplus)).toBe((await sqlOracle(test, 'leads', ['user_id', 'phone'], true)).surplus);
  });

  it('--details streams every duplicate row with a stable group id, rank and keeper flag', async () => {
    const file = join(dir, 'details.csv');
    const result = await runCli(['scan', ...db, '--key', 'device-phone', '--details', file, '--format', 'json']);
    expect(result.code).toBe(0);
    const rows = parse(readFileSync(file), { columns: true }) as Record<string, string>[];
    const oracle = await test.query<{ id: string; group_id: string; rank: string; size: string }>(`
      select id::text, md5(jsonb_build_array(device_id, phone)::text) as group_id,
             row_number() over (partition by device_id, phone order by created_at, id)::text as rank,
             count(*) over (partition by device_id, phone)::text as size
      from leads
      where phone is not null and (device_id, phone) in (select device_id, phone from leads group by 1, 2 having count(*) > 1)`);
    expect(rows).toHaveLength(oracle.length);
    const byId = new Map(rows.map((row) => [row.id, row]));
    for (const expected of oracle) {
      const row = byId.get(expected.id)!;
      expect([row.group_id, row.rank_in_group, row.group_size, row.keep]).toEqual([
        expected.group_id,
        expected.rank,
        expected.size,
        String(expected.rank === '1'),
      ]);
    }
    const again = join(dir, 'again.csv');
    await runCli(['scan', ...db, '--key', 'device-phone', '--details', again, '--quiet']);
    expect(readFileSync(again, 'utf8')).toBe(readFileSync(file, 'utf8'));
  });

  it('reads the table, mapping and keys from a config file; flags override it', async () => {
    await test.exec(`create table crm_leads as select id as lead_id, device_id, phone as phone_number, created_at as inserted_at from leads;`);
    const config = join(dir, 'lead-dedupe.config.json');
    writeFileSync(
      config,
      JSON.stringify({
        database: test.url,
        table: 'crm_leads',
        idColumn: 'lead_id',
        createdColumn: 'inserted_at',
        columns: { phone: 'phone_number' },
        keys: { 'my-key': { columns: ['device_id', 'phone'] } },
      }),
    );
    const result = await runCli(['scan', '--key', 'my-key', '--format', 'json'], { cwd: dir });
    expect(result.stderr).toBe('');
    const [key] = JSON.parse(result.stdout).keys;
    expect(key.columns).toEqual(['device_id', 'phone_number']);
    expect(key.surplus).toBe((await sqlOracle(test, 'leads', ['device_id', 'phone'], true)).surplus);
    const overridden = await runCli(
      ['scan', '--key', 'my-key', '--table', 'leads', '--id-column', 'id', '--created-column', 'created_at', '--map', 'phone=phone', '--format', 'json'],
      { cwd: dir },
    );
    // the config's createdColumn (inserted_at) is not a column of leads: named explicitly, it is checked, not skipped
    expect((await runCli(['scan', '--key', 'my-key', '--table', 'leads', '--id-column', 'id', '--map', 'phone=phone'], { cwd: dir })).stderr).toMatch(
      /^lead-dedupe: created column "inserted_at" not found in public\.leads/,
    );
    expect(JSON.parse(overridden.stdout).table).toBe('public.leads');
  });

  it.each([
    [
      ['--key', 'device-fone'],
      2,
      /^lead-dedupe: unknown key "device-fone" \(did you mean "device-phone"\?\); presets: device-phone, device-phone-niche, device-user-phone-niche, user-phone, phone;/,
    ],
    [
      ['--key', 'device_id,fone'],
      2,
      /^lead-dedupe: key device_id,fone: column "fone" not found in public.leads \(did you mean "phone"\?\); columns: id, device_id, user_id, phone,/,
    ],
    [['--normalize', 'phone=soundex'], 2, /^lead-dedupe: unknown normalize rule "soundex"; rules: trim, lower, digits, e164\n$/],
    [['--normalize', 'phone=e164'], 2, /^lead-dedupe: --normalize …=e164 needs --default-country/],
    [['--table', 'leads"; drop table leads; --'], 2, /^lead-dedupe: table "leads"; drop table leads; --" not found; tables here: .*public\.leads/],
    [['--key', 'phone', '--id-column', 'uuid'], 2, /^lead-dedupe: id column "uuid" not found in public.leads/],
    [['--top', 'many'], 2, /^lead-dedupe: --top takes a whole number from 0 to 2147483647; got "many"\n$/],
    [
      ['--format', 'xml'],
      2,
      /^lead-dedupe: option '--format <format>' argument 'xml' is invalid\. Allowed choices are table, json, csv, prometheus\.\n\(run with --help for usage\)\n$/,
    ],
    [['--key', 'device_phone'], 2, /^lead-dedupe: unknown key "device_phone" \(did you mean "device-phone"\?\)/],
  ])('bad input %j exits %i with one line and changes nothing', async (args, code, message) => {
    const result = await runCli(['scan', ...db, ...args]);
    expect(result.code).toBe(code);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.stdout).toBe('');
    expect(await test.query('select 1 from leads limit 1')).toHaveLength(1);
  });
});

describe('lead-dedupe, the built binary without a server', () => {
  it.each([
    [['scan'], 2, /^lead-dedupe: no database given: pass --database .* or try `lead-dedupe demo`/],
    [['scan', '--database', 'mysql://x/y'], 2, /^lead-dedupe: malformed database URL "mysql:\/\/x\/y"/],
    [['scan', '--database', 'postgres://nobody@127.0.0.1:1/none'], 1, /^lead-dedupe: cannot connect to 127\.0\.0\.1:1\/none: connection refused/],
    [['scan', '--database', 'pglite:memory', '--config', '/nonexistent.json'], 2, /^lead-dedupe: cannot read config file \/nonexistent.json: file not found/],
    [['frobnicate'], 2, /^lead-dedupe: unknown command 'frobnicate'\n\(run with --help for usage\)\n$/],
    [['scna'], 2, /^lead-dedupe: unknown command 'scna' \(did you mean scan\?\)\n\(run with --help for usage\)\n$/],
    [['scan', '--frmat', 'json'], 2, /^lead-dedupe: unknown option '--frmat' \(did you mean --format\?\)\n/],
  ])('%j exits %i with a one-line message', async (args, code, message) => {
    const result = await runCli(args);
    expect(result.code).toBe(code);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('seeds and scans an embedded database in a folder (what npm run demo does)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lead-dedupe-pglite-'));
    const database = `pglite:${join(dir, 'db')}`;
    const seeded = await runCli(['seed', '--database', database, '--rows', '2000', '--format', 'json']);
    expect(seeded.code).toBe(0);
    expect(JSON.parse(seeded.stdout).rows).toBe(2000);
    const again = await runCli(['seed', '--database', database, '--rows', '2000']);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/table public.leads exists \(created by lead-dedupe seed\); pass --replace/);
    const scanned = await runCli(['scan', '--database', database, '--key', 'device-phone', '--format', 'json']);
    expect(scanned.code).toBe(0);
    const embedded = await openDatabase({ kind: 'pglite', dataDir: join(dir, 'db') });
    try {
      const { rows } = await sql<{ surplus: string }>`select sum(n - 1) as surplus
        from (select count(*) as n from public.leads where phone is not null group by device_id, phone having count(*) > 1) g`.execute(embedded.db);
      expect(JSON.parse(scanned.stdout).keys[0].surplus).toBe(Number(rows[0]!.surplus));
    } finally {
      await embedded.db.destroy();
    }
  });
});
