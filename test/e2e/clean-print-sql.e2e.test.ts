import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { CLI_DATABASE_LABEL, type CliDatabase, openCliDatabase } from '../support/cli-database.js';

/** A printed statement: the step it belongs to, whether that step runs only on a condition, and its text. */
interface Printed {
  step: string;
  conditional: boolean;
  sql: string;
}

/** The statements of `--print-sql` output, by section (staging, batch), each with its step. */
function parsePrinted(text: string): { staging: Printed[]; batch: Printed[] } {
  const [, staging = '', batch = ''] = text.split(/^-- (?:Staging|Batch 1)[^\n]*\n/m);
  const statements = (section: string): Printed[] =>
    section.split(/^-- step /m).flatMap((chunk) => {
      const [header = '', ...rest] = chunk.split('\n');
      if (!/^[a-z]/.test(header)) return [];
      const body = rest.filter((line) => !line.startsWith('-- ') && line !== 'begin;' && line !== 'commit;').join('\n');
      return body
        .split(/;\n/)
        .map((sql) => sql.trim())
        .filter((sql) => sql !== '')
        .map((sql) => ({ step: header.split(' ')[0]!, conditional: header.includes('(only when'), sql: sql.replace(/;$/, '') }));
    });
  return { staging: statements(staging), batch: statements(batch) };
}

/** The statements LEAD_DEDUPE_LOG_SQL=1 wrote to stderr, in the order they ran. */
function parseLog(stderr: string): string[] {
  return stderr
    .split(/^-- lead-dedupe sql: [^\n]*\n/m)
    .slice(1)
    .map((segment) => segment.slice(0, segment.lastIndexOf(';\n')));
}

describe(`clean --print-sql and LEAD_DEDUPE_LOG_SQL (${CLI_DATABASE_LABEL})`, () => {
  let db: CliDatabase;
  let database: string;
  const checksum = async () => (await db.query<{ leads: string }>(`select md5(string_agg(t::text, ',' order by id)) as leads from leads t`))[0]!.leads;

  beforeAll(async () => {
    db = await openCliDatabase('lead-dedupe-print-sql-');
    ({ database } = db);
    const seeded = await runCli(['seed', '--database', database, '--rows', '1500']);
    expect(seeded.code, seeded.stderr).toBe(0);
  });
  afterAll(async () => db?.close());

  it('prints the staging and first batch step by step, changes nothing, and is what a one-batch run then sends, in that order', async () => {
    const before = await checksum();
    const printed = await runCli(['clean', '--database', database, '--key', 'device-phone', '--batch-size', '100000', '--print-sql']);
    expect(printed.code, printed.stderr).toBe(0);
    expect(printed.stdout.startsWith('-- lead-dedupe clean --print-sql: key device-phone on public.leads (single-server)\n')).toBe(true);
    expect(await checksum()).toBe(before);
    const archive = await db.query<{ runs: string | null }>(`select to_regclass('lead_dedupe.lead_dedupe_runs')::text as runs`);
    expect(archive[0]!.runs).toBeNull();
    const script = parsePrinted(printed.stdout);
    expect(script.batch.map((statement) => statement.step)).toEqual(
      expect.arrayContaining(['lock', 'rank', 'skipped', 'count', 'merge:keepers', 'repoint:public.lead_activities', 'delete+archive', 'run-totals']),
    );

    const run = await runCli(['clean', '--database', database, '--key', 'device-phone', '--execute', '--batch-size', '100000'], {
      env: { ...process.env, LEAD_DEDUPE_LOG_SQL: '1' },
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).not.toContain('lead-dedupe sql');
    const sent = parseLog(run.stderr);
    // the staging: exactly the printed statements, one after the other
    const stagingStart = sent.indexOf(script.staging[0]!.sql);
    expect(stagingStart).toBeGreaterThan(0);
    expect(sent.slice(stagingStart, stagingStart + script.staging.length)).toEqual(script.staging.map((statement) => statement.sql));
    // the one batch: between its begin and commit, the printed statements in order; only conditional steps may be left out
    const begin = sent.indexOf('begin', stagingStart);
    const batch = sent.slice(begin + 1, sent.indexOf('commit', begin));
    expect(batch.length).toBeGreaterThan(10);
    let at = 0;
    for (const statement of script.batch) {
      if (batch[at] === statement.sql) at++;
      else expect(statement.conditional, `${statement.step} ran out of order or not at all:\n${statement.sql}`).toBe(true);
    }
    expect(at, 'statements the batch sent that --print-sql does not show').toBe(batch.length);
  });

  it('refuses a flag that would run or write something, in one line, exit 2', async () => {
    const both = await runCli(['clean', '--database', database, '--key', 'device-phone', '--print-sql', '--execute']);
    expect({ code: both.code, stderr: both.stderr, stdout: both.stdout }).toEqual({
      code: 2,
      stderr: 'lead-dedupe: --print-sql and --execute: choose one (--print-sql prints the statements and changes nothing)\n',
      stdout: '',
    });
  });
});
