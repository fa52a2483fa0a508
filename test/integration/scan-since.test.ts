import { SAME_SHELL } from '../../src/keys/key-command-line.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seed } from '../../src/seed/seed.js';
import { incrementalKeyScanQuery } from '../../src/scan/sql/since-sql.js';
import { assertBuilt, runCli } from '../support/cli.js';
import { openDatabaseWatermarks } from '../../src/scan/since/database-watermarks.js';
import { scanSince } from '../../src/scan/since/scan-since.js';
import type { SinceSpec } from '../../src/scan/since/since.js';
import { watermarkId, watermarkKeyOf } from '../../src/scan/since/watermark-key.js';
import { loadLeadTable } from '../../src/core/lead-table.js';
import { runIncrementalScan } from '../../src/commands/scan-since.js';
import { resolveKeys, type KeySettings } from '../../src/keys/resolve-key.js';
import { PLAIN_KEY_SETTINGS } from '../support/table-facts.js';
import { TEST_TARGETS, type TestDatabase } from '../support/test-database.js';
import { SINCE, SINCE_KEY_CASES, sinceFigures, sinceOracle, WATCH_TABLE } from '../support/since-oracle.js';

describe.each(TEST_TARGETS.filter((t) => t.available))('scan --since on $label', (target) => {
  let test: TestDatabase;

  beforeAll(async () => {
    test = await target.open();
    await test.exec(WATCH_TABLE);
  });
  afterAll(async () => test?.close());

  async function resolve(settings: Partial<KeySettings> = {}) {
    const table = await loadLeadTable(test.database.db, { table: 'watch', idColumn: 'id', createdColumn: 'created_at' });
    return { table, keys: resolveKeys(table, ['device_id,phone'], { ...PLAIN_KEY_SETTINGS, ...settings }).keys };
  }

  async function figures(settings: Partial<KeySettings>, windowColumn: string, since: SinceSpec = { kind: 'at', at: SINCE }) {
    const { table, keys } = await resolve(settings);
    const windowColumns = windowColumn === 'created_at' ? ['created_at'] : ['created_at', windowColumn];
    const { report } = await scanSince(test.database, { table, keys, top: 10, windowColumns, since });
    const key = report.keys[0]!;
    expect(report.mode).toBe('incremental');
    expect(key.groups).toBe(key.groupsTouched);
    return { report, figures: sinceFigures(key) };
  }

  it.each(SINCE_KEY_CASES)('$label: equal to the oracle for the created and the changed column', async ({ settings, expressions, nullsEqual }) => {
    for (const windowColumn of ['created_at', 'updated_at']) {
      const { figures: got } = await figures(settings, windowColumn);
      expect(got, windowColumn).toEqual(await sinceOracle(test, expressions, windowColumn, nullsEqual));
    }
  });

  it('counts old-to-new and new-to-new duplicates, and nothing for a group whose only new row is its oldest', async () => {
    const { report } = await figures({}, 'created_at');
    const key = report.keys[0]!;
    const byDevice = new Map(key.top.map((group) => [group.key.device_id, group]));
    // old-to-new (1), new-to-new (2), and 3: row 6 has no created time, so it is in every window (never skipped), and
    // not its group's oldest (missing times rank last)
    expect([...byDevice.keys()].sort()).toEqual([1, 2, 3]);
    expect(byDevice.get(3)!.ids.map(String)).toEqual(['7', '6']);
    expect(key.newSurplus).toBe(1 + 2 + 1);
    expect(key.undatedRows).toBe(1);
    expect(report.warnings!.join('\n')).toContain('1 row(s) of public.watch have no created_at');
    // --changed-column adds changed rows to the created window (issue 26 item 1): row 17 became a copy of 16 (changed, not
    // created, in the window); row 18, the oldest of its group, changed; the plain inserts (updated_at NULL) still count
    const changed = (await figures({}, 'updated_at')).report.keys[0]!;
    expect(changed.top.map((group) => group.key.device_id).sort()).toEqual([1, 2, 3, 8, 9]);
    expect(changed.newSurplus).toBe(1 + 2 + 1 + 1 + 0);
  });

  it('--since <duration> counts back from the server clock; the window is open-ended; rows is the planner estimate, not a count', async () => {
    await test.exec('analyze watch');
    const { report } = await figures({}, 'created_at', { kind: 'ago', ms: 365 * 86_400_000 * 10 });
    const [all] = await test.query<{ n: string }>('select count(*) as n from watch');
    // ANALYZE read every page of this small table: the estimate is exact here
    expect({ rows: report.rows, estimated: report.rowsEstimated }).toEqual({ rows: Number(all!.n), estimated: true });
    const key = report.keys[0]!;
    const until = Date.parse(key.until!);
    expect(Date.parse(key.since!)).toBe(until - 365 * 86_400_000 * 10);
    expect(Math.abs(until - Date.now())).toBeLessThan(60_000);
    // every row: the dated ones are all in ten years, and the undated one is in every window
    expect(key.newRows).toBe(Number(all!.n));
  });

  it('watermarks: the first last run scans everything and sets one; the next starts at it minus the overlap and counts a late row', async () => {
    const schema = 'wm_test';
    const store = await openDatabaseWatermarks(test.database, schema);
    const { table, keys } = await resolve();
    const run = (overlapMs: number, publish: () => Promise<void> = async () => undefined) =>
      runIncrementalScan(
        test.database,
        {
          table,
          keys,
          skippedKeys: [],
          top: 5,
          settings: { since: { kind: 'last', overlapMs }, changedColumn: null, stateFile: null, archiveSchema: schema, strict: false },
          commandLine: SAME_SHELL,
          quiet: true,
        },
        publish,
      );
    const id = watermarkId(watermarkKeyOf(keys[0]!, 'created_at'));
    expect((await store.read([watermarkKeyOf(keys[0]!, 'created_at')])).size).toBe(0);
    const first = (await run(300_000)).keys[0]!;
    expect(first.since).toBeNull();
    const whole = (await test.query<{ n: string }>('select count(*) as n from watch'))[0]!.n;
    expect(first.newRows).toBe(Number(whole));
    const stored = (await store.read([watermarkKeyOf(keys[0]!, 'created_at')])).get(id)!.watermark;
    expect(stored.toISOString()).toBe(first.until);
    const [row] = await test.query<{ n: string }>(`select count(*) as n from ${schema}.lead_dedupe_watermarks`);
    expect(Number(row!.n)).toBe(1);

    // a failed publish (output not written) leaves the watermark where it was
    await expect(run(300_000, async () => Promise.reject(new Error('disk full')))).rejects.toThrow('disk full');
    expect((await store.read([watermarkKeyOf(keys[0]!, 'created_at')])).get(id)!.watermark.toISOString()).toBe(first.until);

    // a row committed late, carrying a time two minutes before the watermark, and a new copy of it
    const late = new Date(stored.getTime() - 120_000).toISOString();
    await test.exec(`insert into watch values (30, 1, '111', '${late}', null), (31, 40, '4040', '${late}', null), (32, 40, '4040', now(), null)`);
    const second = (await run(300_000)).keys[0]!;
    expect(Date.parse(second.since!)).toBe(stored.getTime() - 300_000);
    expect(second.newRows).toBe(3 + 1); // and row 6, undated: in every window
    expect(second.newSurplus).toBe(2); // 30 joins the group of 1 and 2; 32 is the second of 31's new group
    expect(second.reportedBefore).toBe(1); // row 6's surplus was reported by the first run
    expect((await store.read([watermarkKeyOf(keys[0]!, 'created_at')])).get(id)!.watermark.toISOString()).toBe(second.until);
    expect(Date.parse(second.until!)).toBeGreaterThanOrEqual(stored.getTime());

    // without the overlap the late row would have been missed: the window would start after it
    const noOverlap = (await run(0)).keys[0]!;
    expect(noOverlap.newRows).toBe(1); // row 6 alone
    expect(noOverlap.newSurplus).toBe(0);
    await test.exec('delete from watch where id >= 30');
  });
});

describe.runIf(TEST_TARGETS.find((t) => t.label === 'postgres')!.available)('scan --since plans on the server', () => {
  let test: TestDatabase;

  beforeAll(async () => {
    assertBuilt();
    test = await TEST_TARGETS.find((t) => t.label === 'postgres')!.open();
    await seed(test.database, { table: 'leads', rows: 20_000, scenario: 'production', replace: false });
    await test.exec(`create index leads_created_at_idx on leads (created_at);
      analyze leads`);
  }, 120_000);
  afterAll(async () => test?.close());

  /** The aliases of the tables read under a Hash node of an EXPLAIN (FORMAT JSON) plan (`l…` the table, `w` the window's rows). */
  function hashedRelations(planJson: string): string[] {
    const found: string[] = [];
    const visit = (node: { 'Node Type': string; 'Relation Name'?: string; Alias?: string; Plans?: unknown[] }, underHash: boolean) => {
      if (underHash && node['Relation Name'] !== undefined) found.push(node.Alias ?? node['Relation Name']);
      for (const child of (node.Plans ?? []) as (typeof node)[]) visit(child, underHash || node['Node Type'] === 'Hash');
    };
    visit((JSON.parse(planJson) as { Plan: Parameters<typeof visit>[0] }[])[0]!.Plan, false);
    return found;
  }

  /** The largest row estimate of a join in an EXPLAIN (FORMAT JSON) plan: here, the rows sharing a key with a row of the window. */
  function joinedRowsEstimate(planJson: string): number {
    let largest = 0;
    const visit = (node: { 'Node Type': string; 'Plan Rows': number; Plans?: unknown[] }) => {
      if (/Join|Nested Loop/.test(node['Node Type'])) largest = Math.max(largest, node['Plan Rows']);
      for (const child of (node.Plans ?? []) as (typeof node)[]) visit(child);
    };
    visit((JSON.parse(planJson) as { Plan: Parameters<typeof visit>[0] }[])[0]!.Plan);
    return largest;
  }

  async function plan(keyText: string, settings: Partial<KeySettings> = {}, back = '1 hour'): Promise<string> {
    const table = await loadLeadTable(test.database.db, { table: 'leads', idColumn: 'id', createdColumn: 'created_at' });
    const [key] = resolveKeys(table, [keyText], { ...PLAIN_KEY_SETTINGS, ...settings }).keys;
    const since = new Date(Date.parse((await test.query<{ t: string }>(`select (max(created_at) - interval '${back}')::text as t from leads`))[0]!.t));
    const window = {
      bounds: [{ column: 'created_at', at: since, wallTime: false }],
      undatedColumn: 'created_at',
      future: [{ column: 'created_at', at: new Date(), wallTime: false }],
      reported: [],
      remember: null,
      rememberLimit: 10,
    };
    const query = incrementalKeyScanQuery(key!, window, 10).compile(test.database.db);
    const { rows } = await sql.raw<{ 'QUERY PLAN': unknown }>(`explain (format json) ${inline(query.sql, query.parameters)}`).execute(test.database.db);
    return JSON.stringify(rows[0]!['QUERY PLAN']);
  }

  it('looks keys up through the key index (plain and normalised) when there is one; without it, one hash join over the table', async () => {
    const without = await plan('device-phone');
    expect(without).toContain('"Index Name":"leads_created_at_idx"');
    expect(without).not.toContain('leads_device_id_phone_idx');
    expect(without).toContain('"Node Type":"Hash Join"');
    // the window's keys are hashed and the table streamed past them, never the table hashed (B23 in bench/README.md),
    // even for a window the planner expects to touch thousands of keys (a join hashed the table then)
    for (const back of ['1 hour', '30 days']) expect(hashedRelations(await plan('device-phone', {}, back)), back).toEqual(['w']);

    const built = await runCli(['index', 'add', '--database', test.url!, '--key', 'device-phone', '--execute']);
    expect(built.code, built.stderr).toBe(0);
    await test.exec('analyze leads');
    const withIndex = await plan('device-phone');
    expect(withIndex).toContain('"Index Name":"leads_device_id_phone_idx"');
    expect(withIndex).toContain('"Node Type":"Nested Loop"');
    expect(withIndex).not.toContain('"Node Type":"Seq Scan"');
    // a window of the whole table: the planner knows its keys find about every row, so it can stream the table past
    // them; a CTE of the window's keys (no statistics) had it assume a few thousand whatever the window, and look
    // each key up through the index even for a million (17× a full scan at 1M rows: B31 in bench/README.md)
    const [counted] = await test.query<{ keyed: string }>('select count(*) as keyed from leads where device_id is not null and phone is not null');
    const whole = await plan('device-phone', {}, '100 years');
    expect(joinedRowsEstimate(whole)).toBeGreaterThan(Number(counted!.keyed) / 2);

    // a normalised key is looked up through an index on its expression: the same expressions as scan and constraint add
    const e164 = { normalize: { phone: 'e164' as const }, defaultCountry: 'MY' };
    const built164 = await runCli([
      'index',
      'add',
      '--database',
      test.url!,
      '--key',
      'device-phone',
      '--normalize',
      'phone=e164',
      '--default-country',
      'MY',
      '--execute',
    ]);
    expect(built164.code, built164.stderr).toBe(0);
    await test.exec('analyze leads');
    expect(await plan('device-phone', e164)).toContain('"Index Name":"leads_device_id_phone_e164_idx"');
  }, 120_000);
});

/** The compiled statement with its parameters written in as literals, for EXPLAIN (timestamps, and the reported ids as an array). */
function inline(text: string, parameters: readonly unknown[]): string {
  const literal = (value: unknown) => (Array.isArray(value) ? `{${value.join(',')}}` : String(value));
  return text.replace(/\$(\d+)/g, (_, n: string) => `'${literal(parameters[Number(n) - 1]).replace(/'/g, "''")}'`);
}

/** Runs `scan --since last` through the command's flow (store, scan, publish, then the watermarks) on `table`'s phone key. */
async function sinceLast(test: TestDatabase, tableName: string, options: { overlapMs: number; stateFile?: string; schema?: string }) {
  const table = await loadLeadTable(test.database.db, { table: tableName, idColumn: 'id', createdColumn: 'created_at' });
  const { keys } = resolveKeys(table, ['phone'], PLAIN_KEY_SETTINGS);
  return runIncrementalScan(
    test.database,
    {
      table,
      keys,
      skippedKeys: [],
      top: 5,
      settings: {
        since: { kind: 'last', overlapMs: options.overlapMs },
        changedColumn: null,
        stateFile: options.stateFile ?? null,
        archiveSchema: options.schema ?? 'lead_dedupe',
        strict: false,
      },
      commandLine: SAME_SHELL,
      quiet: true,
    },
    async () => undefined,
  );
}

/** Surplus rows among `ids` by a whole-table window function written by hand (phone key, oldest first: created, then id). */
async function surplusAmong(test: TestDatabase, tableName: string, ids: number[]): Promise<number> {
  const [row] = await test.query<{ n: string }>(`select count(*) as n from (
      select id, row_number() over (partition by phone order by created_at asc nulls last, id) as rank from ${tableName} where phone is not null
    ) as ranked where rank > 1 and id in (${ids.join(', ')})`);
  return Number(row!.n);
}

describe.each(TEST_TARGETS.filter((t) => t.available))('scan --since last alerts once on $label (issue 26 items 1 and 16)', (target) => {
  let test: TestDatabase;
  const dir = mkdtempSync(join(tmpdir(), 'lead-dedupe-since-'));

  beforeAll(async () => {
    test = await target.open();
  });
  afterAll(async () => {
    await test?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(['database', 'file'])(
    'a new duplicate (and a future-dated one) counts as new once, not again on the next run within the overlap (watermarks in the %s)',
    async (where) => {
      const name = `once_${where}`;
      await test.exec(`create table ${name} (id int primary key, phone text, created_at timestamptz);
        insert into ${name} values (1, '111', now() - interval '30 days'), (2, '222', now() - interval '30 days'), (3, '333', now() - interval '30 days')`);
      const options = where === 'file' ? { overlapMs: 300_000, stateFile: join(dir, 'once.json') } : { overlapMs: 300_000, schema: `wm_${name}` };
      const first = (await sinceLast(test, name, options)).keys[0]!;
      expect(first.since).toBeNull();
      // a copy of 1 now, and a copy of 2 dated tomorrow (a client clock or a typo)
      await test.exec(`insert into ${name} values (4, '111', clock_timestamp()), (5, '222', now() + interval '1 day')`);
      const second = await sinceLast(test, name, options);
      const key = second.keys[0]!;
      expect(key.newSurplus).toBe(await surplusAmong(test, name, [4, 5]));
      expect(key.newSurplus).toBe(2);
      expect(key.futureRows).toBe(1);
      expect(second.warnings!.join('\n')).toContain('1 row(s) of the window are dated in the future');
      // the watermark never moves into the future
      expect(Date.parse(key.until!)).toBeLessThanOrEqual(Date.now());

      // the next run sees both again (the overlap, the future date) but has nothing new to alert on
      const third = (await sinceLast(test, name, options)).keys[0]!;
      expect({ newSurplus: third.newSurplus, reportedBefore: third.reportedBefore, futureRows: third.futureRows }).toEqual({
        newSurplus: 0,
        reportedBefore: 2,
        futureRows: 1,
      });
      // a further copy is new again, once
      await test.exec(`insert into ${name} values (6, '333', clock_timestamp())`);
      const fourth = (await sinceLast(test, name, options)).keys[0]!;
      expect({ newSurplus: fourth.newSurplus, reportedBefore: fourth.reportedBefore }).toEqual({
        newSurplus: await surplusAmong(test, name, [6]),
        reportedBefore: 2,
      });
      expect(fourth.newSurplus).toBe(1);
    },
  );
});

describe.runIf(TEST_TARGETS.find((t) => t.label === 'postgres')!.available)('scan --since last and other sessions (server, issue 26 item 1)', () => {
  let test: TestDatabase;
  let writer: pg.Client;

  beforeAll(async () => {
    test = await TEST_TARGETS.find((t) => t.label === 'postgres')!.open();
    writer = new pg.Client({ connectionString: test.url! });
    await writer.connect();
  });
  afterAll(async () => {
    await writer?.end();
    await test?.close();
  });

  it('a timestamp without time zone written by a session in another TimeZone is compared as its own value, not hours off', async () => {
    const [{ tz }] = (await test.query<{ tz: string }>("select current_setting('TimeZone') as tz")) as [{ tz: string }];
    expect(['UTC', 'Etc/UTC']).toContain(tz);
    await test.exec(`create table zoneless (id int primary key, phone text, created_at timestamp without time zone);
      insert into zoneless values (1, '111', localtimestamp - interval '30 days'), (2, '222', localtimestamp - interval '30 days')`);
    const options = { overlapMs: 300_000, schema: 'wm_zoneless' };
    expect((await sinceLast(test, 'zoneless', options)).keys[0]!.since).toBeNull();
    // a client in New York writes its wall time (5 hours behind the tool's UTC): read through the TimeZone it looks hours old
    await writer.query(`set timezone = 'America/New_York'`);
    await writer.query(`insert into zoneless values (3, '111', now())`);
    const second = (await sinceLast(test, 'zoneless', options)).keys[0]!;
    expect(second.newSurplus).toBe(await surplusAmong(test, 'zoneless', [3]));
    expect(second.newSurplus).toBe(1);
    // a client in Tokyo (9 hours ahead) is seen too, and alerts once although it looks hours ahead of the clock
    await writer.query(`set timezone = 'Asia/Tokyo'`);
    await writer.query(`insert into zoneless values (4, '222', now())`);
    const third = (await sinceLast(test, 'zoneless', options)).keys[0]!;
    expect({ newSurplus: third.newSurplus, futureRows: third.futureRows }).toEqual({ newSurplus: 1, futureRows: 0 });
    expect((await sinceLast(test, 'zoneless', options)).keys[0]!.newSurplus).toBe(0);
  });

  it('holds the watermark back to the start of a transaction still open, and counts its row once it commits', async () => {
    await test.exec(`create table held (id int primary key, phone text, created_at timestamptz default now());
      insert into held values (1, '111', now() - interval '30 days')`);
    const options = { overlapMs: 0, schema: 'wm_held' };
    await sinceLast(test, 'held', options);
    await writer.query('begin');
    // created_at is the transaction's start (now()), earlier than any clock the next run reads
    const [{ started, pid }] = (
      await writer.query(
        `insert into held (id, phone) values (2, '111') returning (extract(epoch from now()) * 1000)::int8 as started, pg_backend_pid() as pid`,
      )
    ).rows as [{ started: string; pid: number }];
    await new Promise((resolve) => setTimeout(resolve, 50));
    const during = await sinceLast(test, 'held', options);
    expect(during.keys[0]!.newSurplus).toBe(0); // not committed yet
    expect(during.watermark!.heldBack).toMatchObject({ pid });
    expect(Date.parse(during.watermark!.until)).toBeLessThanOrEqual(Number(started));
    expect(during.warnings).toEqual([]); // held back is not a blind spot: the report says so (watermark.heldBack)
    await writer.query('commit');
    // with --overlap 0 the row, created before the previous run's clock, would have been missed for good
    const after = (await sinceLast(test, 'held', options)).keys[0]!;
    expect(after.newSurplus).toBe(await surplusAmong(test, 'held', [2]));
    expect(after.newSurplus).toBe(1);
  });
});
