import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDatabaseTarget } from '../../src/db/database-target.js';
import { withDatabase } from '../../src/db/with-database.js';
import { assertBuilt, runCli } from '../support/cli.js';

interface SuspectsJson {
  groups: { group: string; ids: string[]; pairs: { a: string; b: string; score: number; reasons: string }[]; rows: Record<string, Record<string, unknown>> }[];
  pairCount: number;
}

const pairsOf = (suspects: SuspectsJson) => suspects.groups.flatMap((group) => group.pairs);

/** report --suspects: the section "probably the same lead, not caught by the key", the pairs suspects finds, masked by default. */
describe('report --suspects (built binary, PGlite)', () => {
  let dir: string;
  let database: string;

  beforeAll(async () => {
    assertBuilt();
    dir = mkdtempSync(join(tmpdir(), 'lead-dedupe-report-suspects-'));
    database = `pglite:${join(dir, 'db')}`;
    const seeded = await runCli(['seed', '--database', database, '--rows', '1500', '--scenario', 'near-duplicates', '--quiet']);
    expect(seeded.code, seeded.stderr).toBe(0);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function report(...extra: string[]): Promise<{ html: string; suspects: SuspectsJson }> {
    const output = join(dir, `report-${extra.length}.html`);
    const result = await runCli(['report', '--database', database, '--suspects', '--output', output, '--quiet', ...extra]);
    expect(result.code, result.stderr).toBe(0);
    const html = readFileSync(output, 'utf8');
    return { html, suspects: JSON.parse(html.match(/<script type="application\/json" id="report-data">(.*?)<\/script>/s)![1]!).suspects };
  }

  it('shows the pairs suspects finds, none the key already groups, each with its score and reasons', async () => {
    const { html, suspects } = await report('--no-redact');
    expect(html).toContain('<h2>Probably the same lead, not caught by the key</h2>');
    const alone = await runCli(['suspects', '--database', database, '--format', 'json']);
    expect(alone.code, alone.stderr).toBe(0);
    const expected = JSON.parse(alone.stdout) as SuspectsJson;
    expect(pairsOf(suspects).length).toBeGreaterThan(10);
    expect(suspects.pairCount).toBe(pairsOf(suspects).length);
    expect(suspects.groups).toEqual(expected.groups);
    // the oracle: no reported pair shares device_id and phone (the key), by the table itself
    const caught = await withDatabase(parseDatabaseTarget(database), async (db) => {
      const rows = await sql<{ n: number }>`select count(*)::int as n
        from unnest(${pairsOf(suspects).map((p) => p.a)}::bigint[], ${pairsOf(suspects).map((p) => p.b)}::bigint[]) as p (a, b)
        join public.leads as x on x.id = p.a join public.leads as y on y.id = p.b
        where x.device_id = y.device_id and x.phone = y.phone`.execute(db.db);
      return rows.rows[0]!.n;
    });
    expect(caught).toBe(0);
    const shown = suspects.groups.slice(0, 1)[0]!;
    expect(html).toContain(`<td>${shown.ids.join(', ')}</td>`);
  });

  it('masks the stored values and the values reasons quote, by default', async () => {
    const raw = await report('--no-redact');
    const masked = await report();
    expect(pairsOf(masked.suspects).map((p) => [p.a, p.b, p.score])).toEqual(pairsOf(raw.suspects).map((p) => [p.a, p.b, p.score]));
    const values = new Set<string>();
    for (const row of raw.suspects.groups.flatMap((group) => Object.values(group.rows)))
      for (const column of ['phone', 'email', 'name']) if (typeof row[column] === 'string') values.add(row[column] as string);
    expect(values.size).toBeGreaterThan(20);
    for (const value of values) {
      expect(raw.html.includes(value) || raw.html.includes(value.replace(/&/g, '&amp;'))).toBe(true);
      expect(masked.html.includes(value), value).toBe(false);
    }
  });
});
