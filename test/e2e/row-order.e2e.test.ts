import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDatabaseTarget } from '../../src/db/database-target.js';
import { withDatabase } from '../../src/db/with-database.js';
import { assertBuilt, runCli } from '../support/cli.js';
import { SERVER_URL, TEST_TARGETS, type TestDatabase, underUserPath } from '../support/test-database.js';

/**
 * A uuid-id table without a created column, through the binary (issue 26 item 14): clean by
 * oldest or newest is refused before anything changes (exit 2, one line), `--created-column`
 * lifts the refusal, and scan's table and JSON say the ids are in arbitrary order.
 */
const cli = (...args: string[]) => runCli(args, { env: { COLUMNS: '200' } });

describe(`uuid ids without a created column (built binary, ${SERVER_URL ? 'server' : 'PGlite directory'})`, () => {
  let dir: string;
  let database: string;
  let server: TestDatabase | undefined;

  async function query<R>(text: string): Promise<R[]> {
    if (server) return server.query<R>(text);
    return withDatabase(parseDatabaseTarget(database), (db) => underUserPath(db, async (connection) => (await sql.raw<R>(text).execute(connection)).rows));
  }

  beforeAll(async () => {
    assertBuilt();
    dir = mkdtempSync(join(tmpdir(), 'lead-dedupe-row-order-'));
    server = SERVER_URL ? await TEST_TARGETS.find((t) => t.label === 'postgres')!.open() : undefined;
    database = server?.url ?? `pglite:${join(dir, 'db')}`;
    if (!server) expect((await cli('seed', '--database', database, '--rows', '100')).code).toBe(0);
    await query('create table ulead (id uuid primary key default gen_random_uuid(), device_id int, phone text, signed_up timestamptz default now())');
    await query(`insert into ulead (device_id, phone) select g % 10, '60123' || (g % 10) from generate_series(1, 30) as g`);
  });
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('clean --keep oldest|newest (and the default merge) exits 2 in one line and changes nothing', async () => {
    const before = await query<{ md5: string }>(`select md5(string_agg(u::text, ',' order by u.id)) as md5 from ulead u`);
    for (const extra of [[], ['--keep', 'newest', '--mode', 'delete'], ['--execute']]) {
      const result = await cli('clean', '--database', database, '--table', 'ulead', '--key', 'device_id,phone', ...extra);
      expect({ extra, code: result.code, stdout: result.stdout }).toEqual({ extra, code: 2, stdout: '' });
      expect(result.stderr).toMatch(/^lead-dedupe: --keep (oldest|newest) needs rows ordered by age, but no created_at column, and id is uuid, [^\n]+\n$/);
    }
    expect(await query(`select md5(string_agg(u::text, ',' order by u.id)) as md5 from ulead u`)).toEqual(before);
    expect(await query(`select to_regclass('lead_dedupe.lead_dedupe_runs')::text as runs`)).toEqual([{ runs: null }]);
    const named = await cli('clean', '--database', database, '--table', 'ulead', '--key', 'device_id,phone', '--created-column', 'signed_up');
    expect(named.code, named.stderr).toBe(0);
    const content = await cli('clean', '--database', database, '--table', 'ulead', '--key', 'device_id,phone', '--keep', 'most-complete', '--mode', 'delete');
    expect(content.code, content.stderr).toBe(0);
  });

  it('scan says the ids are in arbitrary order (table and JSON)', async () => {
    const table = await cli('scan', '--database', database, '--table', 'ulead', '--key', 'device_id,phone');
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toContain('ids (arbitrary order)');
    expect(table.stdout).not.toContain('oldest first)');
    const json = await cli('scan', '--database', database, '--table', 'ulead', '--key', 'device_id,phone', '--format', 'json');
    expect(JSON.parse(json.stdout).rowOrder).toEqual({ column: 'id', arbitrary: true, reason: 'no created_at column, and id is uuid' });
    const [oracle] = await query<{ groups: string }>(
      'select count(*)::text as groups from (select 1 from ulead group by device_id, phone having count(*) > 1) g',
    );
    expect(JSON.parse(json.stdout).keys[0].groups).toBe(Number(oracle!.groups));
  });
});
