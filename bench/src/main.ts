import { mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { openDatabase } from '../../src/db/with-database.js';
import { parseDatabaseTarget } from '../../src/db/database-target.js';
import { seed } from '../../src/seed/seed.js';
import { planCases } from './plan-cases.js';
import { constraintOnlyCase } from './constraint-case.js';
import { cleanSql, constraintSql, detailsCopy, diagnoseSql, normalisedSummarySql, PRESET_COLUMNS, summarySql } from './baseline-sql.js';
import { loadAverage, longestBatchMs, measurePsql, measureTool, summarise, type Measured } from './measure.js';
import { renderMarkdown, type CaseResult, type BenchResult } from './report.js';
import { CITUS_RESULT_FILE, runCitusBench } from './citus.js';
import { incrementalCases } from './incremental.js';
import { startupCase } from './startup.js';
import { serverSettings, sqlOn, withDatabaseName } from './sql-on.js';

/**
 * `npm run bench -- --rows 1000000 [--rounds 3] [--only startup,scan-one-key,diagnose,suspects,details-export,clean,clean-merge,constraint,scan-since] [--citus]`
 * (`--cases` is the same as `--only`; `--out <file.json>` writes the result elsewhere than bench/results/<rows>.json)
 *
 * Seeds a fresh database on BENCH_DATABASE_URL's server, then measures each
 * case's tool command and its hand-written SQL alternately, `rounds` times,
 * both as processes (the tool through bin/lead-dedupe.js, the SQL through
 * psql), and reports medians and ratios from the same run.
 */
const root = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = join(root, 'bin', 'lead-dedupe.js');

interface Options {
  rows: number;
  rounds: number;
  only: string[] | null;
  /** --citus: the scan, constraint and clean cases on a Citus cluster instead (bench/src/citus.ts). */
  citus: boolean;
  /** Where the result goes (default bench/results/<rows>.json): a run on a loaded machine should not replace the committed figures. */
  out: string | null;
  /** --tag: appended to the bench's database names, so two runs on one server (say, two people's) do not drop each other's. */
  tag: string | null;
  /** --reuse: measure on the database an earlier run with the same --rows and --tag seeded and left (a stopped run leaves it), instead of seeding again. */
  reuse: boolean;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { rows: 1_000_000, rounds: 3, only: null, citus: false, out: null, tag: null, reuse: false };
  for (let i = 0; i < argv.length; i++) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === '--citus' || flag === '--reuse') {
      options[flag === '--citus' ? 'citus' : 'reuse'] = true;
      continue;
    }
    if (flag === '--rows') options.rows = Number(value);
    else if (flag === '--rounds') options.rounds = Number(value);
    else if (flag === '--only' || flag === '--cases') options.only = String(value).split(',');
    else if (flag === '--out') options.out = String(value);
    else if (flag === '--tag') options.tag = String(value);
    else throw new Error(`unknown argument ${flag}; use --rows <n> --rounds <n> --only <case,...> --out <file.json> --tag <name> --reuse`);
    i++;
  }
  if (!Number.isInteger(options.rows) || options.rows < 1000) throw new Error('--rows takes a whole number ≥ 1000');
  // It becomes part of a database name written into SQL text: letters, digits and _ only.
  if (options.tag !== null && !/^[a-z0-9_]{1,20}$/.test(options.tag)) throw new Error('--tag takes 1 to 20 of a-z, 0-9 and _');
  return options;
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  if (options.citus) {
    const result: BenchResult = { ...(await runCitusBench(options, { bin: BIN, log })), commit: gitCommit() };
    const resultFile = options.out ?? CITUS_RESULT_FILE(root, options.rows);
    writeFileSync(resultFile, `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(renderMarkdown(result));
    log(`results written to ${resultFile}`);
    return;
  }
  const serverUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const benchDb = `lead_dedupe_bench_${options.rows}${options.tag === null ? '' : `_${options.tag}`}`;
  const url = withDatabaseName(serverUrl, benchDb);
  const outDir = join(root, 'bench', 'out');
  mkdirSync(outDir, { recursive: true });

  if (options.reuse) await checkReusable(url, options.rows);
  else {
    log(`creating ${benchDb} and seeding ${options.rows.toLocaleString('en-US')} rows`);
    await sqlOn(serverUrl, [`drop database if exists ${benchDb} with (force)`, `create database ${benchDb}`]);
    const database = await openDatabase(parseDatabaseTarget(url));
    try {
      const seeded = await seed(database, { table: 'leads', rows: options.rows, scenario: 'production', replace: false });
      log(`seeded in ${(seeded.durationMs / 1000).toFixed(1)} s: ${seeded.rows} leads, ${seeded.activities} activities`);
    } finally {
      await database.db.destroy();
    }
    await sqlOn(url, ['vacuum analyze leads', 'vacuum analyze lead_activities']);
  }

  const cases: CaseResult[] = [];
  const measureCases = async () => {
    const toolOn = (databaseUrl: string, args: string[]) => () => measureTool(BIN, databaseUrl, args);
    const psqlOn =
      (databaseUrl: string, ...commands: string[]) =>
      () =>
        measurePsql(databaseUrl, commands);
    const tool = (args: string[]) => toolOn(url, args);
    const psql = (...commands: string[]) => psqlOn(url, ...commands);
    const wanted = (name: string) => options.only === null || options.only.includes(name.replace(/ /g, '-'));

    const alternate = async (name: string, toolRun: () => Promise<Measured>, baselineRun: () => Promise<Measured>, prepare?: () => Promise<void>) => {
      if (!wanted(name)) return;
      const loadBefore = loadAverage();
      const toolRuns: Measured[] = [];
      const baselineRuns: Measured[] = [];
      for (let round = 0; round < options.rounds; round++) {
        // Alternate which side goes first so drift in the machine's load hits both.
        const order = round % 2 === 0 ? ['tool', 'baseline'] : ['baseline', 'tool'];
        for (const side of order) {
          if (prepare) await prepare();
          (side === 'tool' ? toolRuns : baselineRuns).push(await (side === 'tool' ? toolRun : baselineRun)());
        }
        log(`${name} round ${round + 1}: tool ${toolRuns.at(-1)!.seconds.toFixed(2)} s, baseline ${baselineRuns.at(-1)!.seconds.toFixed(2)} s`);
      }
      cases.push({ ...summarise(name, toolRuns, baselineRuns), loadBefore });
    };

    // Process start to the first statement, against Node's own start (node -e 0).
    if (wanted('startup')) cases.push(await startupCase(url, BIN, options.rounds, loadAverage()));
    await alternate('scan one key', tool(['scan', '--key', 'device-phone', '--format', 'json']), psql(summarySql('device_id, phone')));
    await alternate('scan one key top 0', tool(['scan', '--key', 'device-phone', '--top', '0', '--format', 'json']), psql(summarySql('device_id, phone')));
    // The same scan on a copy of the table with the key's index (`index add`), against the hand-written summary on the
    // table as seeded, without it: what the index saves a DBA who added it for scan --since (issue 31: ≤ 0.5).
    if (wanted('scan one key key index')) {
      const indexedUrl = await freshCopy(serverUrl, benchDb, `${benchDb}_indexed`);
      await toolOn(indexedUrl, ['index', 'add', '--key', 'device-phone', '--execute'])();
      await sqlOn(indexedUrl, ['vacuum analyze leads']);
      await alternate(
        'scan one key key index',
        toolOn(indexedUrl, ['scan', '--key', 'device-phone', '--format', 'json']),
        psql(summarySql('device_id, phone')),
      );
      await sqlOn(serverUrl, [`drop database if exists ${benchDb}_indexed with (force)`]);
    }
    await alternate('diagnose', tool(['diagnose', '--key', 'device-phone', '--format', 'json']), psql(diagnoseSql));
    // Issue 31's target: diagnose within 2.0x the time of scanning one key, from the same run.
    const scanOne = cases.find((c) => c.name === 'scan one key');
    const diagnosed = cases.find((c) => c.name === 'diagnose');
    if (scanOne && diagnosed) diagnosed.vsScanOneKey = diagnosed.toolSeconds / scanOne.toolSeconds;
    // suspects (default blocks and comparators) against the tool's own one-key scan in the same rounds (target: ≤ 3×, peak RSS < 300 MB)
    await alternate('suspects', tool(['suspects', '--format', 'json']), tool(['scan', '--key', 'device-phone', '--top', '0', '--format', 'json']));
    const suspected = cases.find((c) => c.name === 'suspects');
    if (suspected) suspected.vsScanOneKey = suspected.toolSeconds / suspected.baselineSeconds;
    await alternate('scan all presets', tool(['scan', '--format', 'json']), psql(...PRESET_COLUMNS.map((c) => summarySql(c))));
    await alternate(
      'scan normalised',
      tool(['scan', '--key', 'device-phone', '--normalize', 'phone=e164', '--default-country', 'MY', '--format', 'json']),
      psql(normalisedSummarySql),
    );
    await alternate(
      'details export',
      tool(['scan', '--key', 'device-phone', '--details', join(outDir, 'tool.csv'), '--format', 'json']),
      psql(detailsCopy(join(outDir, 'baseline.csv'))),
    );
    rmSync(join(outDir, 'tool.csv'), { force: true });
    rmSync(join(outDir, 'baseline.csv'), { force: true });

    // clean and constraint change the table: each run gets a fresh identical copy of the database (untimed). Per
    // round: the tool's delete-mode clean and the hand-written one, each followed by its constraint, and the tool's
    // merge-mode clean.
    if (wanted('constraint') && !wanted('clean') && !wanted('clean-merge')) {
      cases.push(await constraintOnlyCase({ bin: BIN, rounds: options.rounds, log, freshCopy: () => freshCopy(serverUrl, benchDb, `${benchDb}_tool`) }));
    } else if (wanted('clean') || wanted('constraint') || wanted('clean-merge')) {
      const cleanRuns = { tool: [] as Measured[], baseline: [] as Measured[], merge: [] as Measured[] };
      const constraintRuns = { tool: [] as Measured[], baseline: [] as Measured[] };
      const loadBefore = loadAverage();
      const cleanArgs = (mode: 'delete' | 'merge') => ['clean', '--key', 'device-phone', '--mode', mode, '--execute', '--format', 'json'];
      const sides = ['tool', 'baseline', ...(wanted('clean-merge') ? ['merge' as const] : [])] as const;
      for (let round = 0; round < options.rounds; round++) {
        const order = round % 2 === 0 ? sides : [...sides].reverse();
        for (const side of order) {
          const copyUrl = await freshCopy(serverUrl, benchDb, `${benchDb}_${side}`);
          await sqlOn(copyUrl, ['checkpoint']);
          cleanRuns[side].push(
            side === 'baseline' ? await psqlOn(copyUrl, cleanSql('public'))() : await toolOn(copyUrl, cleanArgs(side === 'merge' ? 'merge' : 'delete'))(),
          );
          if (side === 'merge') continue;
          await sqlOn(copyUrl, ['vacuum analyze leads']);
          constraintRuns[side].push(
            side === 'tool'
              ? await toolOn(copyUrl, ['constraint', 'add', '--key', 'device-phone', '--execute'])()
              : await psqlOn(copyUrl, ...constraintSql('public'))(),
          );
        }
        log(`clean round ${round + 1}: tool ${cleanRuns.tool.at(-1)!.seconds.toFixed(2)} s, baseline ${cleanRuns.baseline.at(-1)!.seconds.toFixed(2)} s`);
        if (cleanRuns.merge.length > 0) log(`clean merge round ${round + 1}: tool ${cleanRuns.merge.at(-1)!.seconds.toFixed(2)} s`);
        log(
          `constraint round ${round + 1}: tool ${constraintRuns.tool.at(-1)!.seconds.toFixed(2)} s, baseline ${constraintRuns.baseline.at(-1)!.seconds.toFixed(2)} s`,
        );
      }
      cases.push({ ...summarise('clean', cleanRuns.tool, cleanRuns.baseline), longestBatchMs: longestBatchMs(cleanRuns.tool), loadBefore });
      if (cleanRuns.merge.length > 0) {
        // merge mode's baseline is the tool's own delete mode, from the same rounds (issue 31's target: merge ≤ 1.2× delete)
        cases.push({ ...summarise('clean merge', cleanRuns.merge, cleanRuns.tool), longestBatchMs: longestBatchMs(cleanRuns.merge), loadBefore });
      }
      cases.push({ ...summarise('constraint', constraintRuns.tool, constraintRuns.baseline), loadBefore });
    }

    cases.push(
      ...(await planCases({
        url,
        bin: BIN,
        outDir,
        rounds: options.rounds,
        wanted,
        log,
        freshCopy: (side) => freshCopy(serverUrl, benchDb, `${benchDb}_${side}`),
        summarise,
      })),
    );

    // Last: it adds indexes and rows to public.leads, which the copies above must not inherit.
    if (wanted('scan since')) cases.push(...(await incrementalCases(url, BIN, options.rounds, log)));
  };

  const result: BenchResult = {
    rows: options.rows,
    rounds: options.rounds,
    date: new Date().toISOString(),
    commit: gitCommit(),
    cores: cpus().length,
    node: process.version,
    postgres: await serverSettings(url),
    cases,
  };
  const resultFile = options.out ?? join(root, 'bench', 'results', `${options.rows}.json`);
  // A case that fails (say, a session ended by someone else on a shared server), or a run stopped with
  // Ctrl-C or SIGTERM, keeps the cases measured before it.
  const writePartial = (why: string) => {
    const partialFile = resultFile.replace(/\.json$/, '.partial.json');
    writeFileSync(partialFile, `${JSON.stringify({ ...result, incomplete: why }, null, 2)}\n`);
    log(`the cases measured so far are in ${partialFile}`);
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      writePartial(`stopped by ${signal}`);
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  }
  try {
    await measureCases();
  } catch (error) {
    writePartial(error instanceof Error ? error.message : String(error));
    throw error;
  }
  writeFileSync(resultFile, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(renderMarkdown(result));
  log(`results written to ${resultFile}`);
  await sqlOn(
    serverUrl,
    ['tool', 'baseline', 'merge'].map((side) => `drop database if exists ${benchDb}_${side} with (force)`),
  );
  await sqlOn(serverUrl, [`drop database if exists ${benchDb} with (force)`]);
}

/**
 * A fresh identical copy of the seeded database (leads, lead_activities and its foreign key), made
 * by PostgreSQL's file copy of the whole database: at 10M rows an INSERT … SELECT copy with its
 * indexes took longer than the cases it prepared. Returns the copy's URL; its tables are in public.
 */
/** --reuse: the database must hold the seeded table untouched (the scan since case, last, adds rows: a run that reached it cannot be reused). */
async function checkReusable(url: string, rows: number): Promise<void> {
  const [[table]] = (await sqlOn(url, ['select reltuples::bigint as estimate from pg_class where oid = to_regclass($$public.leads$$)'])) as [
    [{ estimate: string } | undefined],
  ];
  const estimate = Number(table?.estimate ?? 0);
  if (Math.abs(estimate - rows) > rows * 0.01) throw new Error(`--reuse: ${url} does not hold a seeded table of ${rows} rows (estimate ${estimate})`);
  const [[indexed]] = (await sqlOn(url, ['select count(*)::int as n from pg_indexes where tablename = $$leads$$ and indexdef like $$%(created_at)%$$'])) as [
    [{ n: number }],
  ];
  if (indexed.n > 0) throw new Error('--reuse: the table already went through the scan since case (it has its created_at index and new rows)');
}

async function freshCopy(serverUrl: string, template: string, name: string): Promise<string> {
  await sqlOn(serverUrl, [`drop database if exists ${name} with (force)`, `create database ${name} template ${template} strategy file_copy`]);
  return withDatabaseName(serverUrl, name);
}

function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root }).toString().trim();
  } catch {
    return 'unknown';
  }
}

const log = (text: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${text}\n`);

main().catch((error) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
