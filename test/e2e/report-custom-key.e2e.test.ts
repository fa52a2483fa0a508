import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDatabaseTarget } from '../../src/db/database-target.js';
import { withDatabase } from '../../src/db/with-database.js';
import { assertBuilt, runCli } from '../support/cli.js';

/** A newcomer's own schema, where no preset fits: the report diagnoses and scans the key given on the command line. */
describe('report --key on a schema without the preset columns (built binary, PGlite)', () => {
  let dir: string;
  let database: string;

  beforeAll(async () => {
    assertBuilt();
    dir = mkdtempSync(join(tmpdir(), 'lead-dedupe-report-key-'));
    database = `pglite:${join(dir, 'db')}`;
    await withDatabase(
      parseDatabaseTarget(database),
      async (db) => {
        await sql`create table public.leads (id bigint generated always as identity primary key, mobile text, source text, created timestamptz not null)`.execute(
          db.db,
        );
        await sql`insert into public.leads (mobile, source, created)
                  select '60' || (g % 37), case when g % 3 = 0 then 'web' else 'ads' end, now() - g * interval '1 minute'
                  from generate_series(1, 400) g`.execute(db.db);
      },
      { createPglite: true },
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('scans and diagnoses mobile,source, with the surplus hand-written SQL counts', async () => {
    const output = join(dir, 'report.html');
    const result = await runCli(['report', '--database', database, '--key', 'mobile,source', '--created-column', 'created', '--output', output]);
    expect(result.code, result.stderr).toBe(0);
    const surplus = await withDatabase(parseDatabaseTarget(database), async (db) => {
      const rows = await sql<{ surplus: string }>`
        select sum(n - 1)::text as surplus from (select count(*) as n from public.leads group by mobile, source having count(*) > 1) g`.execute(db.db);
      return Number(rows.rows[0]!.surplus);
    });
    const html = readFileSync(output, 'utf8');
    const data = JSON.parse(html.match(/<script type="application\/json" id="report-data">(.*?)<\/script>/s)![1]!);
    expect(data.scan.keys.map((key: { name: string }) => key.name)).toEqual(['mobile,source']);
    expect(data.scan.keys[0].surplus).toBe(surplus);
    expect(data.diagnose.surplus).toBe(surplus);
  });
});
