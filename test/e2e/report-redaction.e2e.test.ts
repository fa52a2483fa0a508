import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDatabaseTarget } from '../../src/db/database-target.js';
import { withDatabase } from '../../src/db/with-database.js';
import { assertBuilt, runCli } from '../support/cli.js';

interface ReportJson {
  scan: { keys: { name: string; columns: string[]; top: { key: Record<string, unknown> }[] }[] };
  diagnose: { by: { values: { value: string | null }[] } };
}

/** The HTML report is made to be mailed: by default no phone, e-mail or name of a customer is in the file, and equal values stay equal. */
describe('report redaction (built binary, PGlite)', () => {
  let dir: string;
  let database: string;

  beforeAll(async () => {
    assertBuilt();
    dir = mkdtempSync(join(tmpdir(), 'lead-dedupe-redaction-'));
    database = `pglite:${join(dir, 'db')}`;
    expect((await runCli(['seed', '--database', database, '--rows', '3000'])).code).toBe(0);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function report(by: string, ...extra: string[]): Promise<{ html: string; data: ReportJson }> {
    const output = join(dir, `report-${by}-${extra.length}.html`);
    const result = await runCli(['report', '--database', database, '--by', by, '--output', output, '--quiet', ...extra]);
    expect(result.code, result.stderr).toBe(0);
    const html = readFileSync(output, 'utf8');
    return { html, data: JSON.parse(html.match(/<script type="application\/json" id="report-data">(.*?)<\/script>/s)![1]!) };
  }

  const inTable = (column: 'phone' | 'email' | 'name', values: string[]) =>
    withDatabase(parseDatabaseTarget(database), async (db) => {
      const compared = column === 'phone' ? sql`regexp_replace(phone, '[^0-9]', '', 'g')` : sql.ref(column);
      const rows = await sql<{ n: number }>`select count(*)::int as n from public.leads where ${compared} = any(${values})`.execute(db.db);
      return rows.rows[0]!.n;
    });

  it('holds no phone, e-mail or name of the table, by default', async () => {
    for (const by of ['email', 'name']) {
      const { html } = await report(by);
      const digitRuns = [...new Set(html.match(/\d{6,}/g) ?? [])];
      const emails = [...new Set(html.match(/[\w.+-]+@[\w-]+(\.[\w-]+)+/g) ?? [])];
      const names = [...new Set(html.match(/lead \d+/gi) ?? [])];
      expect(await inTable('phone', digitRuns)).toBe(0);
      expect(await inTable('email', emails)).toBe(0);
      expect(await inTable('name', names)).toBe(0);
      expect(html).toContain('Customer values are masked');
    }
  });

  it('masks each value consistently: equal raw values, equal masked values, as --no-redact shows them', async () => {
    const masked = await report('email');
    const raw = await report('email', '--no-redact');
    const pairs: [unknown, unknown][] = [];
    for (const [k, key] of raw.data.scan.keys.entries())
      for (const [g, group] of key.top.entries())
        for (const column of key.columns) pairs.push([group.key[column], masked.data.scan.keys[k]!.top[g]!.key[column]]);
    for (const [v, value] of raw.data.diagnose.by.values.entries()) pairs.push([value.value, masked.data.diagnose.by.values[v]!.value]);
    expect(pairs.some(([rawValue]) => typeof rawValue === 'string')).toBe(true);
    for (const [rawA, maskedA] of pairs)
      for (const [rawB, maskedB] of pairs) {
        if (typeof rawA !== 'string' || typeof rawB !== 'string') continue;
        expect(maskedA === maskedB, `${rawA} / ${rawB}`).toBe(rawA === rawB);
      }
    // the raw report does hold the values the masked one hides
    expect(
      await inTable(
        'email',
        raw.data.diagnose.by.values.flatMap((v) => (v.value === null ? [] : [v.value])),
      ),
    ).toBeGreaterThan(0);
  });
});
