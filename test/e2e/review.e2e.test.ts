import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
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
    // clean's check of a plan with no group accepted yet: every count 0 (it failed on the sum of no rows)
    const check = await runCli(['clean', '--database', database, '--plan', plan]);
    expect(check.code, check.stderr).toBe(0);
    expect(check.stdout).toMatch(/rows --execute would remove +│ 0 /);
    expect(check.stdout).toMatch(new RegExp(`groups not accepted in review \\(left untouched\\) +│ ${groupsOf(before).length} `));
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
    // the header records the reviewed lines' sha256 (computed here) and keeps its own digest, the plan's id
    const [header, ...body] = after.split('\n');
    const [headerBefore] = before.split('\n');
    const reviewedDigest = `sha256:${createHash('sha256').update(body.join('\n')).digest('hex')}`;
    expect(JSON.parse(header!)).toEqual({ ...JSON.parse(headerBefore!), reviewed: { digest: reviewedDigest, at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) } });
    expect(body.join('\n')).toBe(
      before
        .split('\n')
        .slice(1)
        .map((line, i) => (i === 0 ? line.replace('"needs review"', '"accepted"') : i === 1 ? line.replace('"needs review"', '"rejected"') : line))
        .join('\n'),
    );
    // clean's check: reviewed, not edited by hand
    const check = await runCli(['clean', '--database', database, '--plan', plan]);
    expect(check.code, check.stderr).toBe(0);
    expect(check.stdout).toMatch(/plan reviewed +│ with lead-dedupe review, \d{4}-/);
    expect(check.stdout).not.toContain('plan edited');

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

  it('a plan edited by hand after its review is reported as edited, and a later review says so and leaves it so', async () => {
    const reviewed = readFileSync(plan, 'utf8');
    const lines = reviewed.split('\n');
    const index = lines.findIndex((line) => line.includes('"review":"needs review"'));
    lines[index] = lines[index]!.replace('"review":"needs review"', '"review":"rejected"');
    writeFileSync(plan, lines.join('\n'), { mode: 0o600 });
    const edited = await runCli(['clean', '--database', database, '--plan', plan]);
    expect(edited.code, edited.stderr).toBe(0);
    expect(edited.stdout).toContain('plan edited');
    expect(edited.stdout).not.toContain('plan reviewed');
    const again = await runCli(['review', plan, '--reject-all']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('was edited by hand before this review');
    expect(readFileSync(plan, 'utf8').split('\n')[0]).toBe(lines[0]);
    expect((await runCli(['clean', '--database', database, '--plan', plan])).stdout).toContain('plan edited');
  });
});
