import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seed } from '../../src/seed/seed.js';
import { assertBuilt, runCli } from '../support/cli.js';
import { diagnoseOracle } from '../support/diagnose-oracle.js';
import { SERVER_URL, TEST_TARGETS, type TestDatabase } from '../support/test-database.js';

const server = TEST_TARGETS.find((t) => t.label === 'postgres')!;

describe('lead-dedupe diagnose, bad input (nothing opened)', () => {
  beforeAll(assertBuilt);
  it.each([
    [['--race-window', '15m', '--retry-window', '2s'], /^lead-dedupe: --race-window \(900000 ms\) must not be larger than --retry-window \(2000 ms\)\n$/],
    [['--days', '0'], /^lead-dedupe: --days takes a whole number from 1 to 36500; got "0"\n$/],
    [['--race-window', 'fast'], /^lead-dedupe: --race-window takes a duration/],
    [['--key', 'device-phone', '--key', 'phone'], /^lead-dedupe: diagnose takes one --key at a time/],
  ])('%j: one line on stderr, exit 2', async (args, message) => {
    const result = await runCli(['diagnose', '--database', 'postgres://postgres@127.0.0.1:1/none', ...args]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stdout).toBe('');
  });
});

describe.skipIf(!SERVER_URL)('lead-dedupe diagnose, the built binary against a server', () => {
  let test: TestDatabase;
  let db: string[];

  beforeAll(async () => {
    assertBuilt();
    test = await server.open();
    await seed(test.database, { table: 'leads', rows: 5000, scenario: 'production', replace: false });
    db = ['--database', test.url!];
  });
  afterAll(async () => test?.close());

  it('prints the documented JSON shape, and every figure matches the SQL oracle, with windows as 500ms and 15m', async () => {
    const result = await runCli(['diagnose', ...db, '--format', 'json', '--race-window', '500ms', '--retry-window', '15m', '--by', 'source']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(Object.keys(report)).toEqual(
      expect.arrayContaining([
        'table',
        'rows',
        'key',
        'surplus',
        'gaps',
        'gapsUnknown',
        'cause',
        'trend',
        'columnsThatDiffer',
        'laterCopiesAddData',
        'by',
        'answers',
      ]),
    );
    expect(report.key).toEqual({ name: 'device-phone', columns: ['device_id', 'phone'], normalize: {}, defaultCountry: null, nullsEqual: false });
    expect(report.gaps.at(-1)).toEqual({ upToMs: null, duplicates: expect.any(Number) });
    expect(Object.keys(report.cause)).toEqual(['race', 'retry', 'resubmission', 'unknown', 'raceWindowMs', 'retryWindowMs']);
    expect(report.cause.raceWindowMs).toBe(500);
    expect(report.cause.retryWindowMs).toBe(900_000);
    expect(Object.keys(report.trend)).toEqual(expect.arrayContaining(['interval', 'points', 'lastDuplicateAt', 'last24h', 'last7d']));
    expect(report.trend.points).toHaveLength(30);
    expect(Object.keys(report.trend.points[0])).toEqual(['start', 'leads', 'duplicates']);
    expect(report.answers).toHaveLength(4);
    const compared: string[] = report.columnsThatDiffer.map((c: { column: string }) => c.column);
    expect(compared).toEqual(['user_id', 'niche', 'name', 'email', 'status', 'source', 'updated_at']);
    const oracle = await diagnoseOracle(
      test,
      '(select l.*, l.created_at as created from leads as l)',
      { expressions: ['c.device_id', 'c.phone'], nullsEqual: false },
      compared,
      { race: 500, retry: 900_000 },
      'source',
    );
    expect(report.surplus).toBe(oracle.surplus);
    expect(report.gaps.map((g: { duplicates: number }) => g.duplicates)).toEqual(oracle.gaps);
    expect({ race: report.cause.race, retry: report.cause.retry, resubmission: report.cause.resubmission, unknown: report.cause.unknown }).toEqual(
      oracle.cause,
    );
    for (const c of report.columnsThatDiffer)
      expect({ groups: c.groups, rows: c.rows, only: c.rowsDifferingOnlyHere }, c.column).toEqual(oracle.differ[c.column]);
    for (const c of report.laterCopiesAddData) expect({ groups: c.groups, rows: c.rows }, c.column).toEqual(oracle.fill[c.column]);
    expect(Object.fromEntries(report.by.values.map((v: { value: string; surplus: number }) => [v.value, v.surplus]))).toEqual(oracle.bySurplus);
    expect(report.trend.last7d).toBe(oracle.last7d);
  });

  it('--by splits every cause by value, and the parts add up to the totals', async () => {
    const result = await runCli(['diagnose', ...db, '--format', 'json', '--race-window', '2s', '--by', 'status']);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.by.column).toBe('status');
    for (const cause of ['race', 'retry', 'resubmission', 'unknown'] as const) {
      expect(report.by.values.reduce((sum: number, v: Record<string, number>) => sum + v[cause]!, 0)).toBe(report.cause[cause]);
    }
  });

  it('an unknown --by column: one line, exit 2', async () => {
    const result = await runCli(['diagnose', ...db, '--by', 'nope']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^lead-dedupe: --by column "nope" not found in public\.leads( \(did you mean "[a-z_]+"\?\))?; columns: id, device_id/);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('table and CSV carry the same figures', async () => {
    const json = JSON.parse((await runCli(['diagnose', ...db, '--format', 'json'])).stdout);
    const table = await runCli(['diagnose', ...db]);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain(`${json.surplus.toLocaleString('en-US')} surplus rows`);
    expect(table.stdout).toContain('Answers:');
    const csv = parse((await runCli(['diagnose', ...db, '--format', 'csv'])).stdout, { columns: true }) as Record<string, string>[];
    expect(Number(csv.find((r) => r.section === 'cause' && r.item === 'race')!.value)).toBe(json.cause.race);
    expect(Number(csv.find((r) => r.section === 'summary' && r.metric === 'surplus')!.value)).toBe(json.surplus);
  });
});
