import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, runCli } from '../support/cli.js';
import { SERVER_URL, TEST_TARGETS, type TestDatabase } from '../support/test-database.js';

/**
 * Item 11: a database-level statement_timeout (100 ms here) must not cut the
 * tool's statements short: each command runs under its own documented
 * timeouts. The table is large enough (300,000 leads) that the staging, the
 * scan, the index build and the restore's re-insert each take well over
 * 100 ms on this server.
 */
describe.runIf(SERVER_URL)('a database whose statement_timeout is 100 ms', () => {
  let server: TestDatabase;
  let url: string;
  let dir: string;
  const cli = (...args: string[]) => runCli([...args, '--database', url]);

  /** The oracle's own session is exempt from the database's 100 ms (start-up options outrank ALTER DATABASE). */
  async function query<R>(text: string): Promise<R[]> {
    const client = new pg.Client({ connectionString: url, options: '-c statement_timeout=0' });
    await client.connect();
    try {
      return (await client.query(text)).rows as R[];
    } finally {
      await client.end();
    }
  }
  const checksums = async () =>
    (
      await query<{ leads: string; activities: string; n: string }>(`select
      (select md5(string_agg(t::text, ',' order by id)) from leads t) as leads,
      (select md5(string_agg(t::text, ',' order by id)) from lead_activities t) as activities,
      (select count(*) from leads) as n`)
    )[0]!;
  const surplus = async () =>
    (
      await query<{ groups: string; surplus: string; rows: string }>(`
      select count(*) as groups, coalesce(sum(n - 1), 0) as surplus, coalesce(sum(n), 0) as rows
      from (select count(*) as n from leads where device_id is not null and phone is not null group by device_id, phone having count(*) > 1) g`)
    )[0]!;

  beforeAll(async () => {
    assertBuilt();
    dir = mkdtempSync(join(tmpdir(), 'lead-dedupe-timeouts-'));
    server = await TEST_TARGETS.find((t) => t.label === 'postgres')!.open();
    url = server.url!;
    const seeded = await cli('seed', '--rows', '300000');
    expect(seeded.code, seeded.stderr).toBe(0);
    await server.database.db.destroy();
    const name = new URL(url).pathname.slice(1);
    const admin = new pg.Client({ connectionString: SERVER_URL });
    await admin.connect();
    await admin.query(`alter database ${name} set statement_timeout = '100ms'`);
    await admin.end();
    // The setting is in force for ordinary sessions: the staging's duplicate-groups join takes longer than 100 ms.
    const plain = new pg.Client({ connectionString: url });
    await plain.connect();
    const slow = await plain
      .query('select count(*) from leads l join (select device_id, phone from leads group by 1, 2 having count(*) > 1) g using (device_id, phone)')
      .then(
        () => null,
        (error: { code?: string }) => error.code,
      );
    await plain.end();
    expect(slow).toBe('57014');
  }, 180_000);
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('scan and scan --details run without a statement timeout (the documented default for reading commands)', async () => {
    const oracle = await surplus();
    const scanned = await cli('scan', '--key', 'device-phone', '--format', 'json', '--details', join(dir, 'details.csv'));
    expect(scanned.code, scanned.stderr).toBe(0);
    const key = JSON.parse(scanned.stdout).keys[0];
    expect({ groups: key.groups, surplus: key.surplus }).toEqual({ groups: Number(oracle.groups), surplus: Number(oracle.surplus) });
    expect(readFileSync(join(dir, 'details.csv'), 'utf8').trim().split('\n').length - 1).toBe(Number(oracle.rows));
  }, 120_000);

  it('clean --execute and restore --execute with --statement-timeout 10m, then with the defaults (60 s): counts and checksums match', async () => {
    const before = await checksums();
    const oracle = await surplus();
    expect(Number(oracle.surplus)).toBeGreaterThan(10_000);

    for (const [run, flags] of [
      [1, ['--statement-timeout', '10m']],
      [2, []],
    ] as const) {
      const cleaned = await cli('clean', '--key', 'device-phone', '--execute', '--format', 'json', ...flags);
      expect(cleaned.code, cleaned.stderr).toBe(0);
      expect(JSON.parse(cleaned.stdout).rowsRemoved).toBe(Number(oracle.surplus));
      const after = await checksums();
      expect(Number(after.n)).toBe(Number(before.n) - Number(oracle.surplus));
      const [archived] = await query<{ n: string }>(`select count(*) as n from lead_dedupe.lead_dedupe_removed where run_id = ${run}`);
      expect(Number(archived!.n)).toBe(Number(oracle.surplus));

      const restored = await cli('restore', String(run), '--execute', '--format', 'json', ...flags);
      expect(restored.code, restored.stderr).toBe(0);
      expect(JSON.parse(restored.stdout).rowsReinserted).toBe(Number(oracle.surplus));
      expect(await checksums()).toEqual(before);
    }
  }, 180_000);

  it("clean's staging and dry run run without a statement timeout; its batches run under --statement-timeout", async () => {
    const before = await checksums();
    const oracle = await surplus();
    // the dry run is one statement over the whole table, longer than the database's 100 ms (beforeAll): 50 ms does not bound it
    const dryRun = await cli('clean', '--key', 'device-phone', '--statement-timeout', '50ms', '--format', 'json');
    expect(dryRun.code, dryRun.stderr).toBe(0);
    expect(JSON.parse(dryRun.stdout).rowsToRemove).toBe(Number(oracle.surplus));
    // --execute stages (unbounded too), then its first batch's statements exceed 1 ms and the run stops, nothing changed
    const bounded = await cli('clean', '--key', 'device-phone', '--execute', '--statement-timeout', '1ms', '--retries', '0', '--format', 'json');
    expect(bounded.code).toBe(1);
    expect(bounded.stderr + bounded.stdout).toContain('--statement-timeout 1 ms');
    expect(await checksums()).toEqual(before);
  }, 120_000);

  it("restore takes clean's --lock-timeout and --statement-timeout grammar, and refuses a bad value before touching anything", async () => {
    const bad = await cli('restore', '1', '--statement-timeout', 'soon');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(
      'lead-dedupe: --statement-timeout takes a duration from 1ms to 2147483647ms such as 500ms, 5s, 2m or 1h (a bare number is ms); got "soon"\n',
    );
    const zero = await cli('restore', '1', '--lock-timeout', '0');
    expect(zero.code).toBe(2);
    expect(zero.stderr).toBe(
      'lead-dedupe: --lock-timeout takes a duration from 1ms to 2147483647ms such as 500ms, 5s, 2m or 1h (a bare number is ms); got "0"\n',
    );
  });

  it('constraint add builds its index with no statement timeout', async () => {
    const cleaned = await cli('clean', '--key', 'device-phone', '--execute', '--mode', 'delete');
    expect(cleaned.code, cleaned.stderr).toBe(0);
    const added = await cli('constraint', 'add', '--key', 'device-phone', '--execute');
    expect(added.code, added.stderr).toBe(0);
    const [index] = await query<{ valid: boolean }>(
      `select i.indisvalid as valid from pg_index i join pg_class c on c.oid = i.indexrelid where c.relname = 'leads_device_id_phone_key'`,
    );
    expect(index).toEqual({ valid: true });
  }, 180_000);
});
