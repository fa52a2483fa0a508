import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seed } from '../../src/seed/seed.js';
import { assertBuilt, runCli, startCli } from '../support/cli.js';
import { withManyConnections } from '../support/connection-budget.js';
import { tableChecksum } from '../support/table-facts.js';
import { SERVER_URL, TEST_TARGETS, type TestDatabase } from '../support/test-database.js';

const INTERRUPTED = 130;

/** `lead-dedupe race` and `sql upsert --client` through the built binary: refusals, exit codes, Ctrl-C clean-up. */
describe('race and sql upsert --client: bad input (built binary, no database needed)', () => {
  beforeAll(() => assertBuilt());

  it.each([
    [['race', '--database', 'pglite:memory', '--key', 'device-phone', '--on-duplicate', 'skip', '--calls', '1'], /--calls/],
    [['race', '--database', 'pglite:memory', '--key', 'device-phone', '--on-duplicate', 'skip', '--calls', '201'], /--calls/],
    [['race', '--database', 'pglite:memory', '--key', 'device-phone', '--on-duplicate', 'skip', '--rounds', '0'], /--rounds/],
    [['race', '--database', 'pglite:memory', '--key', 'device-phone', '--on-duplicate', 'bogus'], /--on-duplicate/],
    [['sql', 'upsert', '--database', 'pglite:memory', '--key', 'device-phone', '--on-duplicate', 'skip', '--client', 'rust'], /--client/],
    [['sql', 'upsert', '--database', 'pglite:memory', '--key', 'device-phone', '--on-duplicate', 'skip', '--go-driver', 'pgx-v3'], /--go-driver/],
    [
      ['sql', 'upsert', '--database', 'pglite:memory', '--key', 'device-phone', '--on-duplicate', 'skip', '--client', 'go', '--go-package', 'Leads'],
      /--go-package/,
    ],
    [['sql', 'upsert', '--database', 'pglite:memory', '--key', 'device-phone', '--on-duplicate', 'skip', '--client', 'go', '--format', 'json'], /--client/],
  ])('%j: exit 2, one line', async (args, message) => {
    const result = await runCli(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^lead-dedupe: /);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.stdout).toBe('');
  });
});

describe.runIf(SERVER_URL)('race (built binary, server)', () => {
  let test: TestDatabase;
  let url: string;
  const scratchTables = async () =>
    Number((await test.query<{ n: string }>(`select count(*) as n from pg_tables where schemaname = 'lead_dedupe' and tablename like 'race\\_%'`))[0]!.n);
  const race = (...extra: string[]) => [
    'race',
    '--database',
    url,
    '--key',
    'device-user-phone-niche',
    '--on-duplicate',
    'skip',
    '--insert-columns',
    'device_id,user_id,phone,niche,name',
    ...extra,
  ];

  beforeAll(async () => {
    assertBuilt();
    test = await TEST_TARGETS.find((t) => t.label === 'postgres')!.open();
    url = test.url!;
    await seed(test.database, { table: 'leads', rows: 300, scenario: 'production', replace: false });
  });
  afterAll(async () => {
    await test?.close();
  });

  it('without the constraint: the statement fails on every call (no arbiter): not proven, exit 1; json has both paths; the table untouched', async () => {
    const before = await tableChecksum(test, 'leads');
    const result = await withManyConnections(() => runCli([...race('--calls', '20', '--rounds', '3', '--format', 'json')]));
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout);
    expect(report.paths.map((path: { path: string }) => path.path)).toEqual(['check-then-insert', 'generated statement']);
    expect(report.paths[0].calls).toBe(60);
    expect(report.proven).toBe(false);
    expect(result.stderr).toContain('creates lead_dedupe.race_<random>');
    expect(await tableChecksum(test, 'leads')).toBe(before);
    expect(await scratchTables()).toBe(0);
  }, 60_000);

  it('more calls than the server has connections free: exit 2 before anything is created (it crashed half-way, leaving the scratch table)', async () => {
    const result = await runCli(race('--calls', '200', '--rounds', '1'));
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^lead-dedupe: race needs 200 more connections \(one per call\) but the server has \d+ free: lower --calls$/m);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(await scratchTables()).toBe(0);
  });

  it('a read-only session: exit 2, nothing created', async () => {
    const result = await runCli(race('--calls', '2', '--rounds', '1'), { env: { PGOPTIONS: '-c default_transaction_read_only=on' } });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^lead-dedupe: the session is read-only/m);
    expect(await scratchTables()).toBe(0);
  });

  it('Ctrl-C (SIGINT) mid-run: exit 130, the scratch table dropped', async () => {
    await withManyConnections(async () => {
      const run = startCli(race('--calls', '10', '--rounds', '100'));
      for (let i = 0; i < 400 && (await scratchTables()) === 0; i++) await new Promise((resolve) => setTimeout(resolve, 25));
      expect(await scratchTables()).toBe(1);
      run.child.kill('SIGINT');
      const done = await run.done;
      expect(done.code).toBe(INTERRUPTED);
      expect(done.stderr).toMatch(/interrupted by SIGINT; the scratch table was dropped/);
    });
    expect(await scratchTables()).toBe(0);
  }, 60_000);
});
