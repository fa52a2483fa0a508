import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, runCli } from '../support/cli.js';

/** Issue 10 items 15 and 16: demo recreates its own folder whole; one rule per output detail. */
describe('demo folder and output consistency (built binary, PGlite)', () => {
  let dir: string;
  let db: string[];

  beforeAll(async () => {
    assertBuilt();
    dir = mkdtempSync(join(tmpdir(), 'lead-dedupe-consistency-'));
    db = ['--database', `pglite:${join(dir, 'db')}`];
    expect((await runCli(['seed', '--rows', '3000', ...db])).code).toBe(0);
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('demo recreates its folder whole: no earlier run or archive survives', async () => {
    const demo = join(dir, 'demo');
    expect((await runCli(['demo', '--dir', demo, '--rows', '2000'])).code).toBe(0);
    const on = ['--database', `pglite:${demo}`];
    expect((await runCli(['clean', '--key', 'device-phone', '--execute', ...on])).code).toBe(0);
    expect(JSON.parse((await runCli(['runs', '--format', 'json', ...on])).stdout).runs).toHaveLength(1);
    expect((await runCli(['demo', '--dir', demo, '--rows', '2000'])).code).toBe(0);
    expect(JSON.parse((await runCli(['runs', '--format', 'json', ...on])).stdout).runs).toHaveLength(0);
  }, 180_000);

  it('demo refuses a folder it did not make (exit 2), and leaves it as it was', async () => {
    const mine = join(dir, 'mine');
    mkdirSync(mine);
    writeFileSync(join(mine, 'notes.txt'), 'keep me');
    const result = await runCli(['demo', '--dir', mine, '--rows', '2000']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^lead-dedupe: .*not made by lead-dedupe demo/);
    expect(readFileSync(join(mine, 'notes.txt'), 'utf8')).toBe('keep me');
    // a database seed made is not demo's either
    const seeded = await runCli(['demo', '--dir', join(dir, 'db'), '--rows', '2000']);
    expect(seeded.code).toBe(2);
    expect(existsSync(join(dir, 'db', 'PG_VERSION'))).toBe(true);
  }, 60_000);

  it('every JSON report starts with generatedAt and database; lead ids are strings everywhere', async () => {
    const before = Date.now();
    for (const args of [
      ['scan', '--key', 'device-phone'],
      ['clean', '--key', 'device-phone'],
      ['runs'],
      ['constraint', 'status'],
      ['diagnose', '--key', 'device-phone'],
    ]) {
      const result = await runCli([...args, '--format', 'json', ...db]);
      expect(result.code, args.join(' ')).toBe(0);
      const report = JSON.parse(result.stdout);
      expect(Object.keys(report).slice(0, 2), args.join(' ')).toEqual(['generatedAt', 'database']);
      expect(Date.parse(report.generatedAt)).toBeGreaterThanOrEqual(before - 1000);
      expect(report.database).toBe(`pglite:${join(dir, 'db')}`);
    }
    const scan = JSON.parse((await runCli(['scan', '--key', 'device-phone', '--format', 'json', ...db])).stdout);
    const clean = JSON.parse((await runCli(['clean', '--key', 'device-phone', '--format', 'json', ...db])).stdout);
    for (const id of scan.keys[0].top.flatMap((group: { ids: unknown[] }) => group.ids)) expect(typeof id).toBe('string');
    for (const group of clean.sample)
      expect([typeof group.keeper, ...group.losers.map((id: unknown) => typeof id)]).toEqual(Array(group.losers.length + 1).fill('string'));
  }, 120_000);

  it('scan --details writes timestamps as ISO 8601 with the offset, as --export-removed does', async () => {
    const file = join(dir, 'details.csv');
    expect((await runCli(['scan', '--key', 'device-phone', '--details', file, '--quiet', ...db])).code).toBe(0);
    const rows = parse(readFileSync(file, 'utf8'), { columns: true }) as Record<string, string>[];
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(row.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00$/);
  }, 60_000);

  it('--output picks the format from its extension; a contradiction is exit 2 and writes nothing', async () => {
    const csv = join(dir, 'report.csv');
    expect((await runCli(['scan', '--key', 'device-phone', '--output', csv, ...db])).code).toBe(0);
    const text = readFileSync(csv, 'utf8');
    expect(text).not.toMatch(/[┌│]/);
    expect(parse(text, { columns: true }).length).toBeGreaterThan(0);
    const json = join(dir, 'runs.json');
    expect((await runCli(['runs', '--output', json, ...db])).code).toBe(0);
    expect(JSON.parse(readFileSync(json, 'utf8'))).toHaveProperty('runs');
    const contradiction = await runCli(['scan', '--format', 'table', '--output', join(dir, 'x.json'), ...db]);
    expect(contradiction.code).toBe(2);
    expect(contradiction.stderr).toMatch(/^lead-dedupe: --output .*x\.json names json, but --format is table/);
    expect(existsSync(join(dir, 'x.json'))).toBe(false);
    const unsupported = await runCli(['clean', '--key', 'device-phone', '--output', join(dir, 'plan.csv'), ...db]);
    expect(unsupported.code).toBe(2);
    expect(existsSync(join(dir, 'plan.csv'))).toBe(false);
  }, 60_000);
});
