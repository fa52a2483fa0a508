import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seed } from '../../src/seed/seed.js';
import { assertBuilt, runCli, startCli } from '../support/cli.js';
import { SERVER_URL, TEST_TARGETS, type TestDatabase } from '../support/test-database.js';
import { countRows, tableChecksum } from '../support/table-facts.js';

/**
 * Review before apply through the built binary, on the server: the plan and
 * its CSV, the check, the refusals (exit 2, nothing changed), and a run
 * killed with SIGKILL mid-apply, then applied again.
 */
const server = TEST_TARGETS.find((t) => t.label === 'postgres')!;
const VICTIMS = `select id from (
    select id, row_number() over (partition by device_id, phone order by created_at, id) as rn, count(*) over (partition by device_id, phone) as n
    from leads where device_id is not null and phone is not null) x
  where rn > 1 and n > 1`;

describe.skipIf(!SERVER_URL)('clean --plan-out / --plan through the binary (server)', () => {
  let test: TestDatabase;
  let other: TestDatabase;
  let dir: string;
  const count = (text: string) => countRows(test, text);
  const plan = () => join(dir, 'plan.jsonl');

  beforeAll(async () => {
    assertBuilt();
    dir = mkdtempSync(join(tmpdir(), 'lead-dedupe-plan-e2e-'));
    test = await server.open();
    other = await server.open();
    await seed(test.database, { table: 'leads', rows: 6000, scenario: 'production', replace: true });
    await seed(other.database, { table: 'leads', rows: 6000, scenario: 'production', replace: true });
  });
  afterAll(async () => {
    await test?.close();
    await other?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes the plan and its CSV, checks it, and refuses what it must with exit 2, changing nothing', async () => {
    const victims = await count(VICTIMS);
    const written = await runCli(['clean', '-d', test.url!, '--key', 'device-phone', '--plan-out', plan(), '--plan-csv', join(dir, 'plan.csv'), '--quiet']);
    expect(written).toMatchObject({ code: 0, stdout: '' });
    const groups = await count(`select 1 from leads where phone is not null group by device_id, phone having count(*) > 1`);
    const csv = parse(readFileSync(join(dir, 'plan.csv')), { columns: true }) as { action: string }[];
    expect(csv.filter((row) => row.action === 'remove')).toHaveLength(victims);
    expect(csv.filter((row) => row.action === 'keep')).toHaveLength(groups);
    const lines = readFileSync(plan(), 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(1 + groups + 1 + 1); // header, groups, one child key, end
    const header = JSON.parse(lines[0]!);
    expect(header.totals).toMatchObject({ groups, rowsToRemove: victims });
    const before = await tableChecksum(test, 'leads');

    const checked = await runCli(['clean', '-d', test.url!, '--plan', plan()]);
    expect(checked.code).toBe(0);
    expect(checked.stdout).toMatch(new RegExp(`groups as planned \\(--execute applies them\\)\\s+│ ${groups.toLocaleString('en-US')}`));

    const refused = async (args: string[]) => {
      const result = await runCli(args);
      expect(result.code, result.stderr).toBe(2);
      return result.stderr;
    };
    expect(await refused(['clean', '-d', other.url!, '--plan', plan(), '--execute'])).toMatch(
      /^lead-dedupe: plan .* was made on database lead_dedupe_test_\w+; this is database lead_dedupe_test_\w+; nothing was changed\n$/,
    );
    expect(await refused(['clean', '-d', test.url!, '--key', 'device-phone', '--plan-out', join(dir, 'plan.csv')])).toContain('use --plan-csv');
    expect(await refused(['clean', '-d', test.url!, '--plan', plan(), '--keep', 'newest', '--execute'])).toContain("differs from the plan's keep oldest");
    const old = { ...header, createdAt: new Date(Date.now() - 8 * 86_400_000).toISOString() };
    writeFileSync(plan(), `${[JSON.stringify(old), ...lines.slice(1)].join('\n')}\n`);
    expect(await refused(['clean', '-d', test.url!, '--plan', plan(), '--execute'])).toMatch(/\(8\.0 days ago\), more than --max-plan-age 7d/);
    expect((await runCli(['clean', '-d', test.url!, '--plan', plan(), '--max-plan-age', '9d'])).code).toBe(0);
    // A createdAt in the future would pass any age limit: refused (issue 26 item 17).
    const future = { ...header, createdAt: new Date(Date.now() + 2 * 86_400_000).toISOString() };
    writeFileSync(plan(), `${[JSON.stringify(future), ...lines.slice(1)].join('\n')}\n`);
    expect(await refused(['clean', '-d', test.url!, '--plan', plan(), '--execute'])).toMatch(
      /^lead-dedupe: plan .* says it was made .*, in the future .*nothing was changed\n$/,
    );
    expect(await refused(['clean', '-d', test.url!, '--plan', plan(), '--max-plan-age', '9d'])).toContain('in the future');
    expect(await tableChecksum(test, 'leads')).toBe(before);
    expect(await count(`select 1 from pg_tables where schemaname = 'lead_dedupe'`)).toBe(0);
  });

  it('after SIGKILL mid-apply, applying the same plan again finishes it: the groups done show as already done, nothing is removed twice', async () => {
    await runCli(['clean', '-d', test.url!, '--key', 'device-phone', '--mode', 'delete', '--batch-size', '20', '--plan-out', plan(), '--quiet']);
    const planned = readFileSync(plan(), 'utf8')
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line))
      .filter((line) => line.type === 'group')
      .flatMap((group: { remove: string[] }) => group.remove)
      .sort();
    const run = startCli(['clean', '-d', test.url!, '--plan', plan(), '--execute', '--pause', '300ms']);
    for (let i = 0; ; i++) {
      const started =
        (await count(`select 1 from pg_tables where schemaname = 'lead_dedupe' and tablename = 'lead_dedupe_runs'`)) > 0 &&
        (await count(`select 1 from lead_dedupe.lead_dedupe_runs where status = 'running' and batches_done >= 2`)) > 0;
      if (started) break;
      if (i > 1200) throw new Error(`the apply did not commit 2 batches: ${run.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    run.child.kill('SIGKILL');
    expect((await run.done).signal).toBe('SIGKILL');
    const done = await count(`select distinct group_id from lead_dedupe.lead_dedupe_removed`);
    expect(done).toBeGreaterThan(0);

    const again = await runCli(['clean', '-d', test.url!, '--plan', plan(), '--execute', '--format', 'json']);
    expect(again.code, again.stderr).toBe(0);
    const result = JSON.parse(again.stdout);
    expect(result.plan).toMatchObject({ alreadyDone: done, staleChanged: 0, staleGone: 0 });
    const removed = (await test.query<{ row_id: string }>('select row_id from lead_dedupe.lead_dedupe_removed order by row_id')).map((row) => row.row_id);
    expect(removed.sort()).toEqual(planned);
    expect(await count(`select id from leads where id in (${planned.join(',')})`)).toBe(0);
    const runs = await runCli(['runs', '-d', test.url!]);
    expect(runs.stdout).toContain(`applied plan ${plan()}`);
  });
});
