import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seed } from '../../src/seed/seed.js';
import { assertBuilt, PRINTED_INVOCATION, runCli } from '../support/cli.js';
import { dropRole, SERVER_URL, TEST_TARGETS, type TestDatabase } from '../support/test-database.js';

const server = TEST_TARGETS.find((t) => t.label === 'postgres')!;

/** Figures of the rows created at or after `since`, from a whole-table window function written by hand (device_id, phone; NULLs distinct). */
async function burstOracle(test: TestDatabase, since: string) {
  const [row] = await test.query<Record<string, string>>(`
    with ranked as (
      select id, created_at, row_number() over (partition by device_id, phone order by created_at, id) as rank,
             count(*) over (partition by device_id, phone) as n, device_id, phone
      from leads where device_id is not null and phone is not null
    )
    select (select count(*) from leads where created_at >= '${since}') as new_rows,
           (select count(*) from ranked where created_at >= '${since}' and rank > 1) as new_surplus,
           (select count(distinct (device_id, phone)) from ranked where created_at >= '${since}' and n > 1) as groups_touched`);
  return { newRows: Number(row!.new_rows), newSurplus: Number(row!.new_surplus), groupsTouched: Number(row!.groups_touched) };
}

/** A burst: `copies` rows copying existing leads (new created time), and `pairs` new keys written twice. */
async function insertBurst(test: TestDatabase, copies: number, pairs: number): Promise<void> {
  await test.exec(`insert into leads (device_id, user_id, phone, niche, name, created_at)
      select device_id, user_id, phone, niche, 'burst copy', clock_timestamp() from leads where phone is not null order by id desc limit ${copies};
    insert into leads (device_id, user_id, phone, niche, name, created_at)
      select 900000 + g, 1, '6019' || g, null, 'burst pair', clock_timestamp() from generate_series(1, ${pairs}) as g, generate_series(1, 2)`);
}

describe.skipIf(!SERVER_URL)('lead-dedupe scan --since, the built binary against a server', () => {
  let test: TestDatabase;
  let db: string[];
  const watermarks = async () =>
    test.query<{ key_definition: string; watermark: string; updated_at: string }>(
      'select key_definition, watermark::text, updated_at::text from lead_dedupe.lead_dedupe_watermarks order by 1',
    );

  beforeAll(async () => {
    assertBuilt();
    test = await server.open();
    await seed(test.database, { table: 'leads', rows: 3000, scenario: 'production', replace: false });
    db = ['--database', test.url!];
  });
  afterAll(async () => test?.close());

  it('run twice around a burst, --since last reports exactly the burst (and the first run scans the whole table)', async () => {
    const first = await runCli(['scan', ...db, '--key', 'device-phone', '--since', 'last', '--format', 'json']);
    expect(first.code, first.stderr).toBe(0);
    const firstKey = JSON.parse(first.stdout).keys[0];
    expect(firstKey.since).toBeNull();
    expect(firstKey.newSurplus).toBe(firstKey.surplus);
    // the hint names the index that would make it fast, on stderr only
    expect(first.stderr).toContain('lead-dedupe: hint: no index on the expressions of key device-phone');
    expect(first.stderr).toContain(`build one with: ${PRINTED_INVOCATION} index add `);
    const stored = await watermarks();
    expect(stored).toHaveLength(1);
    expect(new Date(stored[0]!.watermark).toISOString()).toBe(firstKey.until);

    await insertBurst(test, 8, 4);
    const second = await runCli(['scan', ...db, '--key', 'device-phone', '--since', 'last', '--overlap', '0', '--format', 'json']);
    expect(second.code, second.stderr).toBe(0);
    const report = JSON.parse(second.stdout);
    expect(report.mode).toBe('incremental');
    const key = report.keys[0];
    expect(key.since).toBe(firstKey.until);
    const oracle = await burstOracle(test, key.since);
    expect({ newRows: key.newRows, newSurplus: key.newSurplus, groupsTouched: key.groupsTouched }).toEqual(oracle);
    expect(oracle).toEqual({ newRows: 16, newSurplus: 12, groupsTouched: 12 });
    expect(new Date((await watermarks())[0]!.watermark).toISOString()).toBe(key.until);

    // the default overlap (5m) sees the burst again, but it was reported: no new surplus, no second alert (issue 26 item 16)
    const third = await runCli(['scan', ...db, '--key', 'device-phone', '--since', 'last', '--format', 'json', '--fail-on-duplicates']);
    expect(third.code, third.stderr).toBe(0);
    expect(JSON.parse(third.stdout).keys[0]).toMatchObject({ newSurplus: 0, reportedBefore: oracle.newSurplus });
    // one more copy alerts once
    await insertBurst(test, 1, 0);
    const fourth = await runCli(['scan', ...db, '--key', 'device-phone', '--since', 'last', '--format', 'json', '--fail-on-duplicates']);
    expect(fourth.code, fourth.stderr).toBe(3);
    expect(JSON.parse(fourth.stdout).keys[0]).toMatchObject({ newSurplus: 1, reportedBefore: oracle.newSurplus });
  }, 60_000);

  it.each([
    [['--since', 'yesterday'], /^lead-dedupe: --since takes an ISO timestamp .*; got "yesterday"\n$/],
    [['--since', '0m'], /^lead-dedupe: --since takes a duration from 1ms to 36500d .*; got "0m"\n$/],
    [['--since', 'last', '--overlap', '-5m'], /^lead-dedupe: --overlap takes a duration from 0ms to 1d .*; got "-5m"\n$/],
    [['--since', '2026-02-30'], /^lead-dedupe: --since takes an ISO timestamp .*; got "2026-02-30"\n$/],
    [['--since', '15m', '--state-file', 'x.json'], /^lead-dedupe: --state-file only works with --since last/],
    [['--overlap', '5m'], /^lead-dedupe: --overlap only works with --since\n$/],
    [['--since', 'last', '--changed-column', 'name'], /^lead-dedupe: --changed-column "name" of public.leads is text; it must be a date\/time column/],
    [['--since', 'last', '--changed-column', 'nope'], /^lead-dedupe: .*nope/],
  ])('bad input %j: exit 2, one line, no watermark change', async (args, message) => {
    const before = await watermarks();
    const result = await runCli(['scan', ...db, '--key', 'device-phone', ...args]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stdout).toBe('');
    expect(await watermarks()).toEqual(before);
  });

  it('--since <ISO> and --since <duration> take no watermark; the table report shows the window', async () => {
    const before = await watermarks();
    const since = (await test.query<{ t: string }>(`select to_char(max(created_at) - interval '1 day', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as t from leads`))[0]!.t;
    const iso = await runCli(['scan', ...db, '--key', 'device-phone', '--since', since, '--format', 'json']);
    expect(iso.code, iso.stderr).toBe(0);
    const key = JSON.parse(iso.stdout).keys[0];
    expect(key.since).toBe(new Date(since).toISOString());
    expect({ newRows: key.newRows, newSurplus: key.newSurplus, groupsTouched: key.groupsTouched }).toEqual(await burstOracle(test, key.since));
    const table = await runCli(['scan', ...db, '--key', 'device-phone', '--since', '7d'], { env: { COLUMNS: '100' } });
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/scanned incrementally/);
    expect(table.stdout).toMatch(/│ new surplus rows +│ \d+/);
    expect(await watermarks()).toEqual(before);
  });
});

describe.skipIf(!SERVER_URL)('scan --since last where the tool may not write', () => {
  let test: TestDatabase;
  const role = `lead_dedupe_reader_${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'lead-dedupe-state-'));
  let readerUrl: string;
  /** `scan --since last` on device-phone as the read-only role, plus the given flags. */
  const readerSince = (...flags: string[]) => runCli(['scan', '--database', readerUrl, '--key', 'device-phone', '--since', 'last', ...flags]);

  beforeAll(async () => {
    assertBuilt();
    test = await server.open();
    await seed(test.database, { table: 'leads', rows: 2000, scenario: 'production', replace: false });
    const name = new URL(test.url!).pathname.slice(1);
    await test.exec(`create role ${role} login;
      grant select on leads to ${role};
      revoke create on database ${name} from public;
      revoke create on schema public from public`);
    const url = new URL(test.url!);
    url.username = role;
    readerUrl = url.toString();
  });
  afterAll(async () => {
    await test?.close();
    await dropRole(role);
  });

  it('a read-only role is refused without --state-file (exit 2, one line, nothing created) and works with one', async () => {
    const refused = await readerSince();
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      /^lead-dedupe: scan --since last keeps its watermarks in lead_dedupe\.lead_dedupe_watermarks, but .*give --state-file <path>.*\n$/,
    );
    expect(await test.query(`select 1 from pg_namespace where nspname = 'lead_dedupe'`)).toHaveLength(0);

    const state = join(dir, 'watermarks.json');
    const first = await readerSince('--state-file', state, '--format', 'json');
    expect(first.code, first.stderr).toBe(0);
    const firstKey = JSON.parse(first.stdout).keys[0];
    const file = JSON.parse(readFileSync(state, 'utf8'));
    expect(file.watermarks).toHaveLength(1);
    expect(file.watermarks[0].watermark).toBe(firstKey.until);

    await insertBurst(test, 3, 2);
    const second = await readerSince('--state-file', state, '--overlap', '0', '--format', 'json');
    expect(second.code, second.stderr).toBe(0);
    const key = JSON.parse(second.stdout).keys[0];
    expect(key.since).toBe(firstKey.until);
    expect({ newRows: key.newRows, newSurplus: key.newSurplus, groupsTouched: key.groupsTouched }).toEqual(await burstOracle(test, key.since));
    expect(JSON.parse(readFileSync(state, 'utf8')).watermarks[0].watermark).toBe(key.until);
  }, 60_000);

  it('a role without pg_read_all_stats is told that it cannot see the other sessions whose transactions would hold the watermark back', async () => {
    const state = join(dir, 'hidden.json');
    const result = await readerSince('--state-file', state, '--format', 'json');
    expect(result.code, result.stderr).toBe(0);
    // this suite's own connections (another user's) are among them
    expect(JSON.parse(result.stdout).watermark.hiddenTransactions).toBeGreaterThan(0);
    expect(result.stderr).toMatch(/^lead-dedupe: warning: \d+ other session\(s\) of this database are hidden from this role .*pg_read_all_stats/m);

    // --strict makes it a failure (exit 1), after the report and the watermark were written
    const strict = await readerSince('--state-file', state, '--format', 'json', '--strict');
    expect(strict.code, strict.stderr).toBe(1);
    expect(strict.stderr).toMatch(/^lead-dedupe: --strict: \d+ warning\(s\) above; the report and the watermarks were written$/m);
    const report = JSON.parse(strict.stdout);
    expect(report.warnings.length).toBeGreaterThan(0);
    expect(JSON.parse(readFileSync(state, 'utf8')).watermarks[0].watermark).toBe(report.keys[0].until);
  });

  it('a watermarks table an older version made, owned by another role, keeps working and says what it cannot keep', async () => {
    await test.exec(`create schema wm_old;
      create table wm_old.lead_dedupe_watermarks (table_name text not null, key_definition text not null, key_name text not null,
        watermark timestamptz not null, updated_at timestamptz not null default clock_timestamp(), primary key (table_name, key_definition));
      grant usage on schema wm_old to ${role};
      grant select, insert, update on wm_old.lead_dedupe_watermarks to ${role}`);
    const args = ['scan', '--database', readerUrl, '--key', 'device-phone', '--since', 'last', '--archive-schema', 'wm_old', '--format', 'json'];
    const first = await runCli(args);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain('lead-dedupe: warning: wm_old.lead_dedupe_watermarks has no details column and this role does not own it');
    const [row] = await test.query<{ watermark: string }>('select watermark::text as watermark from wm_old.lead_dedupe_watermarks');
    expect(new Date(row!.watermark).toISOString()).toBe(JSON.parse(first.stdout).keys[0].until);
    // its owner's run adds the column, and the reported rows are kept from then on
    const owner = await runCli(['scan', '--database', test.url!, '--key', 'device-phone', '--since', 'last', '--archive-schema', 'wm_old', '--quiet']);
    expect(owner.code, owner.stderr).toBe(0);
    expect(await test.query(`select 1 from information_schema.columns where table_schema = 'wm_old' and column_name = 'details'`)).toHaveLength(1);
    const after = await runCli(args);
    expect(after.stderr).not.toContain('has no details column');
  });

  it("concurrent runs sharing one --state-file keep every key's watermark (issue 26 item 15)", async () => {
    const keys = ['device-phone', 'user-phone', 'phone', 'device-phone-niche', 'device-user-phone-niche', 'device_id,user_id'];
    for (const round of [1, 2, 3]) {
      const state = join(dir, `shared-${round}.json`);
      const results = await Promise.all(
        keys.map((key) => runCli(['scan', '--database', readerUrl, '--key', key, '--since', 'last', '--state-file', state, '--jobs', '1', '--quiet'])),
      );
      for (const result of results) expect(result.code, result.stderr).toBe(0);
      const stored = JSON.parse(readFileSync(state, 'utf8')).watermarks as { key: string }[];
      expect(stored.map((entry) => entry.key).sort(), `round ${round}`).toEqual([...keys].sort());
      expect(existsSync(`${state}.lock`)).toBe(false);
    }
  }, 120_000);

  it('a read-only session (default_transaction_read_only) is refused without --state-file and keeps its watermark in the file', async () => {
    await test.exec(`alter role ${role} set default_transaction_read_only = on`);
    const refused = await readerSince();
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^lead-dedupe: scan --since last keeps its watermarks in .*, but the session is read-only; give --state-file <path>/);
    const state = join(dir, 'read-only-session.json');
    const first = await readerSince('--state-file', state, '--format', 'json');
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(readFileSync(state, 'utf8')).watermarks[0].watermark).toBe(JSON.parse(first.stdout).keys[0].until);
  });

  it('a file that is not ours is refused before the scan, and left as it was', async () => {
    const other = join(dir, 'other.json');
    writeFileSync(other, '{"important": true}\n');
    const result = await readerSince('--state-file', other);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^lead-dedupe: --state-file .*other\.json is not a lead-dedupe watermark file/);
    expect(readFileSync(other, 'utf8')).toBe('{"important": true}\n');
    expect(existsSync(join(dir, 'missing-folder'))).toBe(false);
    const noFolder = await readerSince('--state-file', join(dir, 'missing-folder', 'w.json'));
    expect(noFolder.code).toBe(2);
    expect(noFolder.stderr).toMatch(/does not exist; nothing was changed\n$/);
  });
});
