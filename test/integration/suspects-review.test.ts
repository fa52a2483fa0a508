import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planCleanSettings, resolveCleanSettings } from '../../src/cli/clean-flags.js';
import { applyClean } from '../../src/clean/apply-clean.js';
import { readDatabaseIdentity } from '../../src/clean/plan-file/plan-identity.js';
import { resolvePlanKey } from '../../src/clean/plan-file/plan-match.js';
import { openPlan } from '../../src/clean/plan-file/read-plan.js';
import { restoreRun } from '../../src/clean/restore/restore.js';
import { loadOneKey } from '../../src/core/lead-table.js';
import { collectSuspects } from '../../src/suspects/suspects.js';
import { suspectsPlan } from '../../src/suspects/suspects-plan.js';
import { reviewPlan } from '../../src/suspects/review-plan.js';
import { seed } from '../../src/seed/seed.js';
import { DEFAULT_SUSPECTS } from '../../src/suspects/model.js';
import { PLAIN_KEY_SETTINGS, tableChecksum } from '../support/table-facts.js';
import { TEST_TARGETS, type TestDatabase } from '../support/test-database.js';

/**
 * The review path: suspects --plan-out writes every group "needs review"; a
 * reviewer accepts one and rejects another by editing the file; clean --plan
 * --execute removes the accepted group's non-keepers only (through clean's
 * batches and archive), and restore puts the table back byte for byte.
 */
describe.each(TEST_TARGETS.filter((t) => t.available))('suspects review on $label', (target) => {
  let test: TestDatabase;
  let folder: string;
  beforeAll(async () => {
    test = await target.open();
    folder = mkdtempSync(join(tmpdir(), 'lead-dedupe-suspects-'));
  });
  afterAll(async () => {
    await test?.close();
    rmSync(folder, { recursive: true, force: true });
  });

  it('applies only the accepted group; rejected and unreviewed groups stay; restore is byte-identical', async () => {
    await seed(test.database, { table: 'leads', rows: 3000, scenario: 'near-duplicates', replace: true });
    await test.exec('drop schema if exists lead_dedupe cascade;\n');
    const key = await loadOneKey(test.database.db, { table: 'leads', idColumn: 'id', createdColumn: null }, PLAIN_KEY_SETTINGS, 'device-phone', 'suspects');
    const report = await collectSuspects(test.database, {
      key,
      config: DEFAULT_SUSPECTS,
      columnMap: {},
      defaultCountry: null,
      maxPairs: null,
      truthColumn: null,
    });
    expect(report.groups.length).toBeGreaterThan(3);

    const path = join(folder, 'suspects.jsonl');
    const lines = (
      await suspectsPlan(
        test.database,
        key,
        report.groups.map((group) => group.ids),
      )
    )
      .trimEnd()
      .split('\n');
    const groups = lines.slice(1, -1).map((line) => JSON.parse(line) as { group: string; keep: string; remove: string[]; review: string });
    expect(groups.every((g) => g.review === 'needs review')).toBe(true);
    expect(groups).toHaveLength(report.groups.length);
    // the reviewer (review's core): accept the first group by its smallest id, reject the second by its keeper, leave the rest unreviewed
    const [accepted, rejected] = [groups[0]!, groups[1]!];
    const smallest = [accepted.keep, ...accepted.remove].sort((x, y) => Number(x) - Number(y))[0]!;
    const reviewed = reviewPlan(`${lines.join('\n')}\n`, { accept: [smallest], reject: [rejected.keep] }, path, '2026-12-07T10:00:00.000Z');
    expect([reviewed.accepted, reviewed.rejected, reviewed.needsReview]).toEqual([1, 1, groups.length - 2]);
    writeFileSync(path, reviewed.text);
    const written = readFileSync(path, 'utf8').split('\n');
    // only the two statuses changed, and the header records the review; every other byte as suspects wrote it
    expect(written[1]).toBe(lines[1]!.replace('"review":"needs review"', '"review":"accepted"'));
    expect(written[2]).toBe(lines[2]!.replace('"review":"needs review"', '"review":"rejected"'));
    expect(written.filter((line, i) => line !== (lines[i] ?? ''))).toHaveLength(3);

    const before = { leads: await tableChecksum(test, 'leads'), activities: await tableChecksum(test, 'lead_activities') };
    const ids = async () => (await test.query<{ id: string }>('select id::text as id from leads')).map((row) => row.id);
    const present = new Set(await ids());
    const plan = await openPlan(path);
    const result = await (async () => {
      try {
        const identity = await readDatabaseIdentity(test.database.db);
        const planKey = await resolvePlanKey(test.database.db, plan, identity, { keySettings: PLAIN_KEY_SETTINGS, archiveSchema: 'lead_dedupe' });
        return await applyClean(test.database, { key: planKey, ...planCleanSettings(plan.header, {}, resolveCleanSettings({})) }, {}, plan);
      } finally {
        plan.close();
      }
    })();
    expect(result.plan?.notAccepted).toBe(groups.length - 1);
    expect(result.plan).toMatchObject({ edited: false, reviewedAt: '2026-12-07T10:00:00.000Z' });
    const after = new Set(await ids());
    // hand-checked: exactly the accepted group's removed rows are gone
    expect([...present].filter((id) => !after.has(id)).sort()).toEqual([...accepted.remove].sort());
    expect(after.has(accepted.keep)).toBe(true);
    for (const group of groups.slice(1)) for (const id of [group.keep, ...group.remove]) expect(after.has(id)).toBe(true);
    expect(rejected.remove.every((id) => after.has(id))).toBe(true);

    await restoreRun(test.database, { runId: result.runId, archiveSchema: 'lead_dedupe', execute: true });
    expect({ leads: await tableChecksum(test, 'leads'), activities: await tableChecksum(test, 'lead_activities') }).toEqual(before);
  });
});
