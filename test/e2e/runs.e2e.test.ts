import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { CLI_DATABASE_LABEL, type CliDatabase, openCliDatabase } from '../support/cli-database.js';

/**
 * `runs` through the built binary: the key shows its normalisation, a restored
 * run keeps no "rerun to continue" footer, an unknown table without runs is
 * refused (exit 2) while a dropped table that has runs is still listed.
 */
const cli = (...args: string[]) => runCli(args, { env: { COLUMNS: '250' } });

describe(`runs through the binary (${CLI_DATABASE_LABEL})`, () => {
  let db: CliDatabase;
  let database: string;

  const query = <R>(text: string) => db.query<R>(text);

  beforeAll(async () => {
    db = await openCliDatabase('lead-dedupe-runs-e2e-');
    ({ database } = db);
    const seeded = await cli('seed', '--database', database, '--rows', '1000');
    expect(seeded.code, seeded.stderr).toBe(0);
  });
  afterAll(async () => db?.close());

  it('shows normalisation, drops the footer of a restored run, refuses an unknown table, lists a dropped one', async () => {
    const first = await cli('clean', '--database', database, '--key', 'device-phone', '--execute');
    expect(first.code, first.stderr).toBe(0);
    // Run 1 as an interrupted run leaves it in the archive (interrupting a process here would be slow and flaky).
    const footer = 'interrupted after 1 of 2 batches; rerun to continue';
    await query(`update lead_dedupe.lead_dedupe_runs set status = 'interrupted', message = '${footer}' where id = 1`);
    const restored = await cli('restore', '1', '--database', database, '--execute');
    expect(restored.code, restored.stderr).toBe(0);
    const [state] = await query<{ status: string; restored: boolean }>(
      `select status, restored_at is not null as restored from lead_dedupe.lead_dedupe_runs where id = 1`,
    );
    expect(state).toEqual({ status: 'restored', restored: true });
    const second = await cli('clean', '--database', database, '--key', 'device-phone', '--normalize', 'phone=e164', '--default-country', 'MY', '--execute');
    expect(second.code, second.stderr).toBe(0);

    const table = await cli('runs', '--database', database);
    expect(table.code, table.stderr).toBe(0);
    const rowOf = (id: number) => table.stdout.split('\n').find((line) => new RegExp(`^\\W*${id}\\s`).test(line)) ?? '';
    expect(rowOf(2)).toContain('device-phone (e164 phone)');
    expect(rowOf(1)).toContain('device-phone');
    expect(rowOf(1)).not.toContain('e164');
    expect(table.stdout).not.toContain(footer);

    const unknown = await cli('runs', '--database', database, '--table', 'nope');
    expect(unknown.code).toBe(2);
    expect(unknown.stdout).toBe('');
    expect(unknown.stderr).toMatch(/^lead-dedupe: table "nope" not found[^\n]*\n$/);

    await query('drop table lead_activities');
    await query('drop table leads');
    const dropped = await cli('runs', '--database', database, '--table', 'public.leads', '--format', 'json');
    expect(dropped.code, dropped.stderr).toBe(0);
    expect(JSON.parse(dropped.stdout).runs.map((run: { id: number }) => run.id)).toEqual([2, 1]);
  });

  it('says how many runs the limit leaves out (table footer and JSON), counted by hand', async () => {
    const [counted] = await query<{ n: string }>('select count(*)::text as n from lead_dedupe.lead_dedupe_runs');
    const total = Number(counted!.n);
    expect(total).toBeGreaterThanOrEqual(2);
    const table = await cli('runs', '--database', database, '--limit', '1');
    expect(table.code, table.stderr).toBe(0);
    const hidden = total - 1;
    expect(table.stdout).toContain(`\n${hidden} older run${hidden === 1 ? '' : 's'} not shown (list them with --limit ${total})\n`);
    const json = await cli('runs', '--database', database, '--limit', '1', '--format', 'json');
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ notShown: hidden });
    expect(JSON.parse(json.stdout).runs).toHaveLength(1);
    const all = await cli('runs', '--database', database, '--format', 'json');
    expect(JSON.parse(all.stdout)).toMatchObject({ notShown: 0 });
    expect((await cli('runs', '--database', database)).stdout).not.toContain('not shown');
  });
});
