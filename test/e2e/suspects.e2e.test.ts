import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, runCli } from '../support/cli.js';

/** suspects through the binary on a PGlite directory: counts first on stderr, CSV with both rows' values, --max-pairs refusal, --plan-out 0600. */
describe('suspects (built binary, PGlite)', () => {
  let folder: string;
  let database: string;
  beforeAll(async () => {
    assertBuilt();
    folder = mkdtempSync(join(tmpdir(), 'lead-dedupe-suspects-e2e-'));
    database = `pglite:${join(folder, 'db')}`;
    const seeded = await runCli(['seed', '--database', database, '--rows', '1500', '--scenario', 'near-duplicates', '--quiet']);
    expect(seeded.code, seeded.stderr).toBe(0);
  });
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it('prints the candidate counts before comparing, then one CSV line per pair with reasons and both rows', async () => {
    const plan = join(folder, 'suspects.jsonl');
    const result = await runCli(['suspects', '--database', database, '--format', 'csv', '--plan-out', plan]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/^candidate pairs per block: same e-mail [0-9,]+, same phone [0-9,]+, same name on a device [0-9,]+\n/);
    const rows = parse(result.stdout, { columns: true }) as Record<string, string>[];
    expect(rows.length).toBeGreaterThan(10);
    for (const row of rows) {
      expect(Number(row.score)).toBeGreaterThanOrEqual(5);
      expect(row.reasons).not.toBe('');
      expect(row.a_id).toBe(row.a);
      expect(row.b_id).toBe(row.b);
      // never a pair the exact key (device_id, phone) already groups; NULL phones it cannot group
      expect(row.a_device_id === row.b_device_id && row.a_phone === row.b_phone && row.a_phone !== '').toBe(false);
    }
    expect(statSync(plan).mode & 0o777).toBe(0o600);
    expect(readFileSync(plan, 'utf8')).toContain('"review":"needs review"');
  });

  it('--max-pairs below the count: exit 2, one line with the counts, nothing on stdout', async () => {
    const result = await runCli(['suspects', '--database', database, '--max-pairs', '1']);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines.at(-1)).toMatch(
      /^lead-dedupe: the blocks give \d+ candidate pairs \(same e-mail: \d+, .*\), more than --max-pairs 1; .*nothing was compared$/,
    );
  });
});
