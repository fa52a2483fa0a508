import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/with-database.js';
import { seed } from '../../src/seed/seed.js';
import { assertBuilt, BIN, runCli, startCli } from '../support/cli.js';
import { sqlOracle } from '../support/oracle.js';
import { parseMetrics, SCAN_GAUGES } from '../support/prometheus.js';
import { SERVER_URL, TEST_TARGETS, type TestDatabase } from '../support/test-database.js';

/**
 * scan for cron and monitoring, through the built binary: --format prometheus,
 * --metrics-file (written only after a successful scan, checked before any
 * work), --max-surplus and --fail-on-duplicates exit codes. Figures are
 * compared with hand-written GROUP BYs.
 */
const server = TEST_TARGETS.find((t) => t.label === 'postgres')!;
const UNREACHABLE = 'postgres://nobody@127.0.0.1:1/none';
const KEYS = { 'device-phone': ['device_id', 'phone'], 'user-phone': ['user_id', 'phone'] } as const;

describe.skipIf(!SERVER_URL)('scan metrics and thresholds (built binary, server)', () => {
  let test: TestDatabase;
  let db: string[];
  let dir: string;
  let surplus: { 'device-phone': number; 'user-phone': number };
  const twoKeys = ['--key', 'device-phone', '--key', 'user-phone'];

  beforeAll(async () => {
    assertBuilt();
    test = await server.open();
    await seed(test.database, { table: 'leads', rows: 3000, scenario: 'production', replace: false });
    db = ['--database', test.url!];
    dir = mkdtempSync(join(tmpdir(), 'lead-dedupe-metrics-e2e-'));
    surplus = {
      'device-phone': (await sqlOracle(test, 'leads', [...KEYS['device-phone']], true)).surplus,
      'user-phone': (await sqlOracle(test, 'leads', [...KEYS['user-phone']], true)).surplus,
    };
  });
  afterAll(async () => {
    await test?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Every figure of both keys, from parsed metrics, equals the oracle and the table's row count. */
  async function expectFiguresOfOracle(text: string): Promise<void> {
    const metrics = parseMetrics(text);
    expect(metrics.families.map((family) => family.name)).toEqual(SCAN_GAUGES);
    for (const family of metrics.families) {
      expect(family.type, family.name).toBe('GAUGE');
      expect(family.help, family.name).not.toBe('');
    }
    const [{ n }] = (await test.query<{ n: string }>('select count(*) as n from leads')) as [{ n: string }];
    for (const [key, columns] of Object.entries(KEYS)) {
      const at = (family: string) => metrics.value(family, { table: 'public.leads', key });
      expect(
        {
          groups: at('lead_dedupe_duplicate_groups'),
          rowsInGroups: at('lead_dedupe_rows_in_groups'),
          surplus: at('lead_dedupe_surplus_rows'),
          largestGroup: at('lead_dedupe_largest_group'),
        },
        key,
      ).toEqual(await sqlOracle(test, 'leads', [...columns], true));
      expect(at('lead_dedupe_table_rows')).toBe(Number(n));
      expect(at('lead_dedupe_scan_duration_seconds')).toBeGreaterThan(0);
    }
  }

  it('--format prometheus prints the figures of each key, equal to the oracle, with the time of the run', async () => {
    const before = Date.now() / 1000;
    const result = await runCli(['scan', ...db, ...twoKeys, '--format', 'prometheus']);
    const after = Date.now() / 1000;
    expect([result.code, result.stderr]).toEqual([0, '']);
    await expectFiguresOfOracle(result.stdout);
    const lastSuccess = parseMetrics(result.stdout).value('lead_dedupe_last_success_timestamp_seconds', { table: 'public.leads', key: 'device-phone' })!;
    expect(lastSuccess).toBeGreaterThanOrEqual(before);
    expect(lastSuccess).toBeLessThanOrEqual(after);
  });

  it('--metrics-file writes the same figures beside the report, stamped with its generatedAt, and leaves no temporary file', async () => {
    const folder = mkdtempSync(join(dir, 'file-'));
    const file = join(folder, 'lead_dedupe.prom');
    const result = await runCli(['scan', ...db, ...twoKeys, '--format', 'json', '--metrics-file', file]);
    expect([result.code, result.stderr]).toEqual([0, '']);
    const report = JSON.parse(result.stdout);
    expect(report.surplusLimit).toBeUndefined();
    const text = readFileSync(file, 'utf8');
    await expectFiguresOfOracle(text);
    expect(parseMetrics(text).value('lead_dedupe_last_success_timestamp_seconds', { table: 'public.leads', key: 'user-phone' })).toBe(
      Date.parse(report.generatedAt) / 1000,
    );
    expect(parseMetrics(text).value('lead_dedupe_scan_duration_seconds', { table: 'public.leads', key: 'user-phone' })).toBe(report.durationMs / 1000);
    expect(readdirSync(folder)).toEqual(['lead_dedupe.prom']);
  });

  it('--output x.prom without --format writes the Prometheus text', async () => {
    const file = join(dir, 'report.prom');
    const result = await runCli(['scan', ...db, ...twoKeys, '--output', file]);
    expect([result.code, result.stdout, result.stderr]).toEqual([0, '', '']);
    await expectFiguresOfOracle(readFileSync(file, 'utf8'));
  });

  it('--max-surplus exits 3 only when a key is above the limit (equal is not), and the report names those keys', async () => {
    const [low, high] = [surplus['device-phone'], surplus['user-phone']].sort((a, b) => a - b) as [number, number];
    expect(low).toBeLessThan(high);
    const above = (max: number) =>
      Object.entries(surplus)
        .filter(([, value]) => value > max)
        .map(([key]) => key);
    for (const max of [0, low - 1, low, high - 1, high, high + 1000]) {
      const result = await runCli(['scan', ...db, ...twoKeys, '--format', 'json', '--max-surplus', String(max)]);
      expect(result.stderr).toBe('');
      const expected = twoKeys.filter((word) => above(max).includes(word));
      expect(JSON.parse(result.stdout).surplusLimit, `--max-surplus ${max}`).toEqual({ max, keysAbove: expected });
      expect(result.code, `--max-surplus ${max}`).toBe(expected.length > 0 ? 3 : 0);
    }
    const table = await runCli(['scan', ...db, ...twoKeys, '--max-surplus', String(low - 1)]);
    expect(table.code).toBe(3);
    expect(table.stdout).toContain(`surplus limit ${(low - 1).toLocaleString('en-US')} exceeded by: device-phone (`);
    const csv = await runCli(['scan', ...db, ...twoKeys, '--format', 'csv', '--max-surplus', String(high - 1)]);
    expect(csv.stdout.split('\n')[0]).toMatch(/,above_max_surplus$/);
    expect(
      csv.stdout
        .trim()
        .split('\n')
        .slice(1)
        .map((line) => line.split(',').at(-1)),
    ).toEqual(Object.values(surplus).map((value) => String(value > high - 1)));
    const none = await runCli(['scan', ...db, ...twoKeys, '--max-surplus', String(high)]);
    expect(none.code).toBe(0);
    expect(none.stdout).toContain(`surplus limit ${high.toLocaleString('en-US')}: no key above it`);
  });

  it('an exit-3 run is a successful scan: its metrics file is written', async () => {
    const file = join(dir, 'above.prom');
    const result = await runCli(['scan', ...db, ...twoKeys, '--max-surplus', '0', '--metrics-file', file, '--quiet']);
    expect([result.code, result.stdout, result.stderr]).toEqual([3, '', '']);
    await expectFiguresOfOracle(readFileSync(file, 'utf8'));
  });

  it('--fail-on-duplicates is --max-surplus 0; giving both (or one from the config file) is exit 2', async () => {
    const failing = await runCli(['scan', ...db, ...twoKeys, '--format', 'json', '--fail-on-duplicates']);
    expect(failing.code).toBe(3);
    expect(JSON.parse(failing.stdout).surplusLimit).toEqual({ max: 0, keysAbove: ['device-phone', 'user-phone'] });
    const both = await runCli(['scan', ...db, ...twoKeys, '--fail-on-duplicates', '--max-surplus', '5']);
    expect([both.code, both.stdout]).toEqual([2, '']);
    expect(both.stderr).toBe(
      'lead-dedupe: --fail-on-duplicates and --max-surplus both set the limit (--fail-on-duplicates is --max-surplus 0); give one of them\n',
    );
    const config = join(dir, 'lead-dedupe.config.json');
    writeFileSync(config, JSON.stringify({ database: test.url, commands: { scan: { maxSurplus: surplus['user-phone'] } } }));
    const fromConfig = await runCli(['scan', '--config', config, ...twoKeys, '--format', 'json']);
    expect(fromConfig.code).toBe(0);
    expect(JSON.parse(fromConfig.stdout).surplusLimit.max).toBe(surplus['user-phone']);
    const clash = await runCli(['scan', '--config', config, ...twoKeys, '--fail-on-duplicates']);
    expect(clash.code).toBe(2);
    expect(clash.stderr).toMatch(/^lead-dedupe: --fail-on-duplicates and config "commands\.scan\.maxSurplus" both set the limit/);
  });

  it.each([
    [['--max-surplus', '-1'], /^lead-dedupe: --max-surplus takes a whole number from 0 to 9007199254740991; got "-1"\n$/],
    [['--max-surplus', 'lots'], /^lead-dedupe: --max-surplus takes a whole number from 0 to 9007199254740991; got "lots"\n$/],
    [
      ['--format', 'openmetrics'],
      /^lead-dedupe: option '--format <format>' argument 'openmetrics' is invalid\. Allowed choices are table, json, csv, prometheus\./,
    ],
  ])('bad input %j: exit 2, one line', async (args, message) => {
    const result = await runCli(['scan', ...db, ...args]);
    expect([result.code, result.stdout]).toEqual([2, '']);
    expect(result.stderr).toMatch(message);
  });

  describe('a failed run leaves the previous metrics file as it was', () => {
    let folder: string;
    let file: string;
    let before: { text: string; mtimeMs: number };
    beforeAll(async () => {
      folder = mkdtempSync(join(dir, 'kept-'));
      file = join(folder, 'lead_dedupe.prom');
      expect((await runCli(['scan', ...db, ...twoKeys, '--metrics-file', file, '--quiet'])).code).toBe(0);
      before = { text: readFileSync(file, 'utf8'), mtimeMs: statSync(file).mtimeMs };
    });
    const unchanged = () => {
      expect(readFileSync(file, 'utf8')).toBe(before.text);
      expect(statSync(file).mtimeMs).toBe(before.mtimeMs);
      expect(readdirSync(folder)).toEqual(['lead_dedupe.prom']);
    };

    it.each([
      ['an unreachable server (a closed port on 127.0.0.1)', ['--database', UNREACHABLE, '--key', 'device-phone'], 1, /cannot connect to 127\.0\.0\.1:1/],
      ['an unknown key', ['--key', 'device-fone'], 2, /^lead-dedupe: unknown key "device-fone"/],
      ['a key column that does not exist', ['--key', 'device_id,fone'], 2, /column "fone" not found/],
    ])('%s', async (_label, args, code, message) => {
      const result = await runCli(['scan', ...(args.includes('--database') ? [] : db), ...args, '--metrics-file', file]);
      expect(result.code).toBe(code);
      expect(result.stderr).toMatch(message);
      unchanged();
    });

    it('a scan whose statements fail after it connected (its sessions ended while they wait on a lock)', async () => {
      const holder = new pg.Client({ connectionString: test.url! });
      await holder.connect();
      await holder.query('begin');
      await holder.query('lock table leads in access exclusive mode');
      try {
        const run = startCli(['scan', ...db, ...twoKeys, '--metrics-file', file]);
        let exited = false;
        const done = run.done.finally(() => (exited = true));
        const waiting = `select pid from pg_stat_activity where datname = current_database() and application_name = 'lead-dedupe' and wait_event_type = 'Lock'`;
        while (!exited) {
          await test.query(`select pg_terminate_backend(pid) from (${waiting}) waiting`);
          await sleep(50);
        }
        const result = await done;
        expect(result.code, result.stderr).toBe(1);
        expect(result.stderr).toMatch(/^lead-dedupe: [^\n]+\n$/);
      } finally {
        await holder.query('rollback');
        await holder.end();
      }
      unchanged();
    });
  });
});

describe('--metrics-file is checked before any work (built binary)', () => {
  let dir: string;
  beforeAll(() => {
    assertBuilt();
    dir = mkdtempSync(join(tmpdir(), 'lead-dedupe-metrics-path-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // The database is unreachable: exit 2 naming the path (not exit 1, "cannot connect") shows the check ran before connecting.
  it.each([
    ['a missing folder', () => join(dir, 'missing', 'x.prom'), /: folder .*missing does not exist; nothing was changed\n$/],
    ['a directory', () => dir, /: is a directory; nothing was changed\n$/],
  ])('%s: exit 2, one line', async (_label, path, message) => {
    const result = await runCli(['scan', '--database', UNREACHABLE, '--metrics-file', path()]);
    expect([result.code, result.stdout]).toEqual([2, '']);
    expect(result.stderr).toMatch(new RegExp(`^lead-dedupe: --metrics-file ${path().replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
    expect(result.stderr).toMatch(message);
  });

  it('stdout claimed by the metrics and the report: exit 2', async () => {
    const result = await runCli(['scan', '--database', UNREACHABLE, '--metrics-file', '-']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('lead-dedupe: --metrics-file - and the report would both go to stdout; add --output <file> or --quiet; nothing was changed\n');
  });

  it.runIf(existsSync('/usr/sbin/runuser') && process.getuid?.() === 0)('a folder the user cannot write to (run as nobody): exit 2', () => {
    const folder = join(dir, 'read-only');
    mkdirSync(folder);
    chmodSync(dir, 0o755);
    chmodSync(folder, 0o555);
    let code = 0;
    let stderr = '';
    try {
      execFileSync('runuser', ['-u', 'nobody', '--', process.execPath, BIN, 'scan', '--database', UNREACHABLE, '--metrics-file', join(folder, 'x.prom')], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (error) {
      ({ status: code, stderr } = error as { status: number; stderr: Buffer | string } & { stderr: string });
    }
    expect(code).toBe(2);
    expect(String(stderr)).toBe(`lead-dedupe: --metrics-file ${join(folder, 'x.prom')}: cannot create files in ${folder}; nothing was changed\n`);
  });
});

describe('scan metrics on an embedded database (pglite:<folder>)', () => {
  it('--metrics-file and --max-surplus on PGlite: the figures equal a GROUP BY on the same folder', async () => {
    assertBuilt();
    const dir = mkdtempSync(join(tmpdir(), 'lead-dedupe-metrics-pglite-'));
    try {
      const database = `pglite:${join(dir, 'db')}`;
      expect((await runCli(['seed', '--database', database, '--rows', '1000'])).code).toBe(0);
      const file = join(dir, 'lead_dedupe.prom');
      const result = await runCli(['scan', '--database', database, '--key', 'device-phone', '--max-surplus', '0', '--metrics-file', file, '--format', 'json']);
      expect(result.code).toBe(3);
      expect(JSON.parse(result.stdout).surplusLimit).toEqual({ max: 0, keysAbove: ['device-phone'] });
      const metrics = parseMetrics(readFileSync(file, 'utf8'));
      const at = (family: string) => metrics.value(family, { table: 'public.leads', key: 'device-phone' });
      const embedded = await openDatabase({ kind: 'pglite', dataDir: join(dir, 'db') });
      try {
        const { rows } = await sql<{ groups: string; in_groups: string; largest: string; total: string }>`
          select count(*) as groups, coalesce(sum(n), 0) as in_groups, coalesce(max(n), 0) as largest, (select count(*) from public.leads) as total
          from (select count(*) as n from public.leads where device_id is not null and phone is not null group by device_id, phone having count(*) > 1) g`.execute(
          embedded.db,
        );
        const row = rows[0]!;
        expect({
          groups: at('lead_dedupe_duplicate_groups'),
          rowsInGroups: at('lead_dedupe_rows_in_groups'),
          surplus: at('lead_dedupe_surplus_rows'),
          largestGroup: at('lead_dedupe_largest_group'),
          rows: at('lead_dedupe_table_rows'),
        }).toEqual({
          groups: Number(row.groups),
          rowsInGroups: Number(row.in_groups),
          surplus: Number(row.in_groups) - Number(row.groups),
          largestGroup: Number(row.largest),
          rows: Number(row.total),
        });
      } finally {
        await embedded.db.destroy();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
