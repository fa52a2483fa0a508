import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PRINTED_INVOCATION, runCli } from '../support/cli.js';
import { CLI_DATABASE_LABEL, type CliDatabase, openCliDatabase } from '../support/cli-database.js';

/**
 * The built binary (npm run build first): stdout carries only the report,
 * errors are one line on stderr, exit codes as documented. On the server
 * when TEST_DATABASE_URL is set (CI), else on an embedded PGlite directory
 * (each process start there costs seconds, so the cases are few). Each
 * command is its own process, so PGlite is only opened by one at a time.
 */
const cli = (...args: string[]) => runCli(args);

describe(`clean, runs and restore through the binary (${CLI_DATABASE_LABEL})`, () => {
  let db: CliDatabase;
  let dir: string;
  let database: string;

  const query = <R>(text: string) => db.query<R>(text);
  const state = async () =>
    (
      await query<{ leads: string; activities: string }>(`select
      (select md5(string_agg(t::text, ',' order by id)) from leads t) as leads,
      (select md5(string_agg(t::text, ',' order by id)) from lead_activities t) as activities`)
    )[0]!;

  beforeAll(async () => {
    db = await openCliDatabase('lead-dedupe-e2e-');
    ({ dir, database } = db);
    const seeded = await cli('seed', '--database', database, '--rows', '3000');
    expect(seeded.code, seeded.stderr).toBe(0);
  });
  afterAll(async () => db?.close());

  it('dry run, execute with export, runs, an idempotent rerun, restore: exit codes and stdout as documented', async () => {
    const before = await state();
    const [oracle] = await query<{ groups: string; surplus: string; moved: string }>(`
      select count(*) as groups, sum(n - 1) as surplus,
             (select count(*) from lead_activities where lead_id in (select id from (select id, row_number() over (partition by device_id, phone order by created_at, id) as rn
               from leads where phone is not null) x where rn > 1)) as moved
      from (select count(*) as n from leads where phone is not null group by device_id, phone having count(*) > 1) g`);

    const dry = await cli('clean', '--database', database, '--key', 'device-phone', '--format', 'json');
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stderr).toBe('');
    const plan = JSON.parse(dry.stdout);
    expect({ dryRun: plan.dryRun, groups: plan.groups, rows: plan.rowsToRemove, moved: plan.childRows[0].rows }).toEqual({
      dryRun: true,
      groups: Number(oracle!.groups),
      rows: Number(oracle!.surplus),
      moved: Number(oracle!.moved),
    });
    const csv = join(dir, 'removed.csv');
    const done = await cli(
      'clean',
      '--database',
      database,
      '--key',
      'device-phone',
      '--execute',
      '--batch-size',
      '40',
      '--export-removed',
      csv,
      '--format',
      'json',
    );
    expect(done.code, done.stderr).toBe(0);
    const result = JSON.parse(done.stdout);
    expect(result).toMatchObject({ runId: 1, status: 'done', rowsRemoved: Number(oracle!.surplus), groups: Number(oracle!.groups), stoppedBecause: null });
    expect(done.stderr).toBe(`export: ${Number(oracle!.surplus).toLocaleString('en-US')} removed rows written to ${csv}\n`);
    const lines = readFileSync(csv, 'utf8').trimEnd().split('\n');
    expect(lines[0]).toBe('run_id,batch_no,group_id,keeper_id,id,device_id,user_id,phone,niche,name,email,status,source,created_at,updated_at');
    expect(lines).toHaveLength(Number(oracle!.surplus) + 1);

    const runs = await cli('runs', '--database', database, '--format', 'csv');
    expect(runs.code).toBe(0);
    expect(runs.stdout.split('\n')[1]).toMatch(
      new RegExp(`^1,done,.*,public\\.leads,device-phone,device_id phone,oldest,merge,${oracle!.groups},${oracle!.groups},${oracle!.surplus},`),
    );

    const again = await cli('clean', '--database', database, '--key', 'device-phone', '--execute', '--format', 'json');
    expect(JSON.parse(again.stdout)).toMatchObject({ runId: 2, rowsRemoved: 0, groups: 0, batches: 0 });

    const restored = await cli('restore', '1', '--database', database, '--execute', '--format', 'json');
    expect(restored.code, restored.stderr).toBe(0);
    expect(JSON.parse(restored.stdout)).toMatchObject({ runId: 1, executed: true, rowsReinserted: Number(oracle!.surplus) });
    expect(await state()).toEqual(before);
    const twice = await cli('restore', '1', '--database', database, '--execute');
    expect({ code: twice.code, stderr: twice.stderr, stdout: twice.stdout }).toEqual({
      code: 2,
      stderr: 'lead-dedupe: run 1 is already restored\n',
      stdout: '',
    });
  });

  it('restore leaves a merged column the application changed since, lists it and exits 1; --force in the dry run shows it would be overwritten', async () => {
    const done = await cli('clean', '--database', database, '--key', 'device-phone', '--execute', '--format', 'json');
    expect(done.code, done.stderr).toBe(0);
    const runId = String(JSON.parse(done.stdout).runId);
    const [keeper] = await query<{ id: string; column: string }>(`select row_id as id, merged_columns[1] as column from lead_dedupe.lead_dedupe_keepers
      where run_id = ${runId} order by row_id::bigint limit 1`);
    expect(keeper).toBeDefined();
    await query(`update leads set ${keeper!.column} = 'Corrected By App' where id = ${keeper!.id}`);

    const forced = await cli('restore', runId, '--database', database, '--force');
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stdout).toContain('--force: these merged keeper columns');
    const dry = await cli('restore', runId, '--database', database);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(new RegExp(`│ ${keeper!.id} +│ ${keeper!.column} +│ Corrected By App +│ changed since the clean │`));
    const restored = await cli('restore', runId, '--database', database, '--execute');
    expect(restored.code, restored.stderr).toBe(1);
    expect(restored.stdout).toMatch(/merged keeper columns left alone \(conflicts\) +│ 1 /);
    expect(await query(`select ${keeper!.column} as value from leads where id = ${keeper!.id}`)).toEqual([{ value: 'Corrected By App' }]);
  });

  it('warns on stderr, and in the JSON plan, about a child foreign key without an index, before the dry run and before --execute; builds no index', async () => {
    await query(`create table "Lead Notes" (id serial primary key, "Lead" bigint references leads (id), body text)`);
    await query(`insert into "Lead Notes" ("Lead", body) select id, 'n' from leads where id % 7 = 0`);
    const indexesBefore = await query<{ n: string }>(`select count(*) as n from pg_index where indrelid = '"Lead Notes"'::regclass`);
    const warning =
      'lead-dedupe: warning: public.Lead Notes.Lead has no index: re-pointing and deleting will scan public.Lead Notes once per batch; CREATE INDEX CONCURRENTLY ON public."Lead Notes" ("Lead") would help\n';
    const dry = await cli('clean', '--database', database, '--key', 'device-phone', '--format', 'json');
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stderr).toBe(warning);
    expect(JSON.parse(dry.stdout).unindexedChildKeys).toEqual([{ schema: 'public', table: 'Lead Notes', column: 'Lead', constraint: 'Lead Notes_Lead_fkey' }]);
    const done = await cli('clean', '--database', database, '--key', 'device-phone', '--execute', '--max-groups', '1', '--format', 'json');
    expect(done.code, done.stderr).toBe(0);
    expect(done.stderr).toBe(warning);
    expect(await query(`select count(*) as n from pg_index where indrelid = '"Lead Notes"'::regclass`)).toEqual(indexesBefore);
    await query('drop table "Lead Notes"');
  });

  it('bad input is one line on stderr and exit 2, before anything changes', async () => {
    const before = await state();
    // Flags are checked before the database is opened; the last two need the catalog and the archive.
    const cases: [string[], string][] = [
      [['clean', '--key', 'device-phone', '--key', 'phone'], 'lead-dedupe: clean takes exactly one --key, e.g. --key device-phone\n'],
      [['clean', '--key', 'device-phone', '--export-removed', 'x.csv'], 'lead-dedupe: --export-removed needs --execute (a dry run removes nothing)\n'],
      [
        ['clean', '--key', 'device-phone', '--merge-rule', 'email=shortest'],
        'lead-dedupe: --merge-rule takes <column>=newest|oldest|keeper|longest, e.g. email=newest; got "email=shortest"\n',
      ],
      [
        ['clean', '--key', 'device-phone', '--lock-timeout', 'soon'],
        'lead-dedupe: --lock-timeout takes a duration from 1ms to 2147483647ms such as 500ms, 5s, 2m or 1h (a bare number is ms); got "soon"\n',
      ],
      [['clean', '--key', 'device-phone', '--batch-size', '0'], 'lead-dedupe: --batch-size takes a whole number from 1 to 2147483647; got "0"\n'],
      [['clean', '--key', 'device-phone', '--batch-rows', '1'], 'lead-dedupe: --batch-rows takes a whole number from 2 to 2147483647; got "1"\n'],
      [
        ['clean', '--key', 'device-phone', '--keep', 'best'],
        "lead-dedupe: option '--keep <policy>' argument 'best' is invalid. Allowed choices are oldest, newest, most-complete.\n(run with --help for usage)\n",
      ],
      [
        ['clean', '--key', 'device-phone', '--merge-rule', 'phone=newest', '--execute'],
        'lead-dedupe: --merge-rule phone: merge never changes the id, the created time, key columns, identity, generated or array columns\n',
      ],
      [
        ['restore', '99'],
        `lead-dedupe: run 99 not found in lead_dedupe.lead_dedupe_runs; the command below lists its runs\n  ${PRINTED_INVOCATION} runs -d ${database}\n`,
      ],
    ];
    for (const [args, stderr] of cases) {
      const result = await cli(...args, '--database', database);
      expect({ args, code: result.code, stdout: result.stdout, stderr: result.stderr }).toEqual({ args, code: 2, stdout: '', stderr });
    }
    expect(await state()).toEqual(before);
  });
});
