import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDatabaseTarget } from '../../src/db/database-target.js';
import { openDatabase } from '../../src/db/with-database.js';
import { assertBuilt, runCli } from '../support/cli.js';

interface GroupLine {
  type: string;
  keep: string;
  remove: string[];
  review: string;
}

/** review through the binary on a PGlite directory: refusals leave the file byte for byte, decisions change only the statuses, clean applies the accepted group only. */
describe('review (built binary, PGlite)', () => {
  let folder: string;
  let database: string;
  let plan: string;
  beforeAll(async () => {
    assertBuilt();
    folder = mkdtempSync(join(tmpdir(), 'lead-dedupe-review-e2e-'));
    database = `pglite:${join(folder, 'db')}`;
    plan = join(folder, 'suspects.jsonl');
    const seeded = await runCli(['seed', '--database', database, '--rows', '1500', '--scenario', 'near-duplicates', '--quiet']);
    expect(seeded.code, seeded.stderr).toBe(0);
    const found = await runCli(['suspects', '--database', database, '--plan-out', plan, '--quiet']);
    expect(found.code, found.stderr).toBe(0);
  });
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  const groupsOf = (text: string) =>
    text
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as GroupLine)
      .filter((line) => line.type === 'group');

  it('refuses an id in no group, a group both accepted and rejected, and no decision: exit 2, the file unchanged', async () => {
    const before = readFileSync(plan, 'utf8');
    const [first] = groupsOf(before);
    for (const args of [['--accept', '999999999'], ['--accept', first!.keep, '--reject', first!.remove[0]!], []]) {
      const result = await runCli(['review', plan, ...args]);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toMatch(/^lead-dedupe: [^\n]+\n$/);
      expect(readFileSync(plan, 'utf8')).toBe(before);
    }
  });

  it('accepts and rejects by row id (private file, only the statuses change); clean --plan --execute removes the accepted group only', async () => {
    const before = readFileSync(plan, 'utf8');
    const groups = groupsOf(before);
    expect(groups.length).toBeGreaterThan(3);
    const [accepted, rejected] = [groups[0]!, groups[1]!];
    const result = await runCli(['review', plan, '--accept', accepted.remove[0]!, '--reject', `${rejected.keep}`]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`review: 1 accepted, 1 rejected, ${groups.length - 2} still need review`);
    expect(statSync(plan).mode & 0o777).toBe(0o600);
    const after = readFileSync(plan, 'utf8');
    expect(after).toBe(
      before
        .split('\n')
        .map((line, i) => (i === 1 ? line.replace('"needs review"', '"accepted"') : i === 2 ? line.replace('"needs review"', '"rejected"') : line))
        .join('\n'),
    );

    const applied = await runCli(['clean', '--database', database, '--plan', plan, '--execute', '--quiet']);
    expect(applied.code, applied.stderr).toBe(0);
    const db = await openDatabase(parseDatabaseTarget(database));
    try {
      const ids = new Set((await db.db.withSchema('public').selectFrom('leads').select('id').execute()).map((row) => String(row.id)));
      expect(accepted.remove.filter((id) => ids.has(id))).toEqual([]);
      expect(ids.has(accepted.keep)).toBe(true);
      for (const group of groups.slice(1)) for (const id of [group.keep, ...group.remove]) expect(ids.has(id)).toBe(true);
    } finally {
      await db.db.destroy();
    }
  });
});
