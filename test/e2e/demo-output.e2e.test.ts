import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDatabaseTarget } from '../../src/db/database-target.js';
import { withDatabase } from '../../src/db/with-database.js';
import { assertBuilt, runCli } from '../support/cli.js';

/** What a newcomer sees first (`npm run demo`): the side-by-side table of every preset, with the figures SQL finds. */
describe('demo output (built binary, PGlite, the default 100,000 rows)', () => {
  let dir: string;

  beforeAll(() => {
    assertBuilt();
    dir = mkdtempSync(join(tmpdir(), 'lead-dedupe-demo-output-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prints the presets table with the surplus and largest group that hand-written SQL counts', async () => {
    const demo = join(dir, 'demo');
    const result = await runCli(['demo', '--dir', demo], { env: { COLUMNS: '200' } });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).not.toContain('[object');
    const oracle = await withDatabase(parseDatabaseTarget(`pglite:${demo}`), async (db) => {
      const groups = await sql<{ surplus: string; largest: string }>`
        select sum(n - 1)::text as surplus, max(n)::text as largest
        from (select count(*) as n from public.leads where device_id is not null and phone is not null
              group by device_id, phone having count(*) > 1) g`.execute(db.db);
      return groups.rows[0]!;
    });
    const cell = (label: string) =>
      result.stdout
        .split('\n')
        .find((line) => line.startsWith(`│ ${label} `))
        ?.split('│')[2]
        ?.trim();
    expect(cell('surplus rows')).toBe(Number(oracle.surplus).toLocaleString('en-US'));
    expect(cell('largest group')).toBe(oracle.largest);
    expect(result.stdout).toMatch(/Answers:\n1\. /);
  }, 180_000);
});
