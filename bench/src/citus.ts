import { cpus } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../src/db/with-database.js';
import { parseDatabaseTarget } from '../../src/db/database-target.js';
import { seed } from '../../src/seed/seed.js';
import { constraintSql, normalisedSummarySql, PRESET_COLUMNS, summarySql } from './baseline-sql.js';
import { measureCitusClean } from './citus-clean.js';
import { loadAverage, measurePsql, measureTool, summarise, type Measured } from './measure.js';
import type { BenchResult, CaseResult } from './report.js';
import { serverSettings, sqlOn, withDatabaseName } from './sql-on.js';

/**
 * `npm run bench -- --citus --rows N`: the scan, constraint and clean cases on a
 * Citus cluster (CITUS_BENCH_URL, default the coordinator that
 * scripts/citus-cluster.sh starts), against the same hand-written SQL run on
 * the coordinator. The demo scenario: seeded on the coordinator, then
 * distributed by device_id (Citus' default 32 shards) with lead_activities
 * co-located.
 */
export interface CitusBenchOptions {
  rows: number;
  rounds: number;
  only: string[] | null;
}

export interface CitusBenchContext {
  bin: string;
  log: (text: string) => void;
}

export async function runCitusBench(options: CitusBenchOptions, { bin, log }: CitusBenchContext): Promise<Omit<BenchResult, 'commit'>> {
  const clusterUrl = process.env.CITUS_BENCH_URL ?? 'postgres://postgres@127.0.0.1:5441/postgres';
  const name = `lead_dedupe_citus_bench_${options.rows}`;
  const nodes = await createEverywhere(clusterUrl, name);
  const url = withDatabaseName(clusterUrl, name);
  try {
    log(`seeding ${options.rows.toLocaleString('en-US')} rows on the coordinator, then distributing them by device_id`);
    const database = await openDatabase(parseDatabaseTarget(url));
    try {
      await seed(database, { table: 'leads', rows: options.rows, scenario: 'production', replace: false });
    } finally {
      await database.db.destroy();
    }
    await sqlOn(url, [
      'alter table lead_activities drop constraint lead_activities_lead_id_fkey',
      'alter table lead_activities add column device_id integer',
      'update lead_activities a set device_id = l.device_id from leads l where l.id = a.lead_id',
      'alter table leads drop constraint leads_pkey, add primary key (device_id, id)',
      'alter table lead_activities drop constraint lead_activities_pkey, add primary key (device_id, id)',
      `select create_distributed_table('leads', 'device_id')`,
      `select create_distributed_table('lead_activities', 'device_id', colocate_with => 'leads')`,
      'alter table lead_activities add foreign key (device_id, lead_id) references leads (device_id, id) on delete cascade',
      `select truncate_local_data_after_distributing_table('lead_activities')`,
      `select truncate_local_data_after_distributing_table('leads')`,
      'vacuum analyze leads',
      'vacuum analyze lead_activities',
    ]);
    const tool = (args: string[]) => () => measureTool(bin, url, args, { serverTemp: false });
    const psql =
      (...commands: string[]) =>
      () =>
        measurePsql(url, commands, { serverTemp: false });
    const wanted = (caseName: string) => options.only === null || options.only.includes(caseName.replace(/ /g, '-'));
    const cases: CaseResult[] = [];
    const alternate = async (caseName: string, toolRun: () => Promise<Measured>, baselineRun: () => Promise<Measured>, prepare?: () => Promise<void>) => {
      if (!wanted(caseName)) return;
      const loadBefore = loadAverage();
      const runs = { tool: [] as Measured[], baseline: [] as Measured[] };
      for (let round = 0; round < options.rounds; round++) {
        for (const side of round % 2 === 0 ? (['tool', 'baseline'] as const) : (['baseline', 'tool'] as const)) {
          if (prepare) await prepare();
          runs[side].push(await (side === 'tool' ? toolRun : baselineRun)());
        }
        log(`citus ${caseName} round ${round + 1}: tool ${runs.tool.at(-1)!.seconds.toFixed(2)} s, baseline ${runs.baseline.at(-1)!.seconds.toFixed(2)} s`);
      }
      cases.push({ ...summarise(`citus ${caseName}`, runs.tool, runs.baseline), loadBefore });
    };

    await alternate('scan one key', tool(['scan', '--key', 'device-phone', '--format', 'json']), psql(summarySql('device_id, phone')));
    await alternate('scan one key top 0', tool(['scan', '--key', 'device-phone', '--top', '0', '--format', 'json']), psql(summarySql('device_id, phone')));
    await alternate('scan user-phone', tool(['scan', '--key', 'user-phone', '--format', 'json']), psql(summarySql('user_id, phone')));
    await alternate('scan all presets', tool(['scan', '--format', 'json']), psql(...PRESET_COLUMNS.map((c) => summarySql(c))));
    await alternate(
      'scan normalised',
      tool(['scan', '--key', 'device-phone', '--normalize', 'phone=e164', '--default-country', 'MY', '--format', 'json']),
      psql(normalisedSummarySql),
    );
    // constraint add changes the table: each run gets a fresh deduplicated copy, distributed the same way (untimed).
    await alternate(
      'constraint',
      tool(['constraint', 'add', '--table', 'copy.leads', '--key', 'device-phone', '--execute']),
      psql(...constraintSql('copy')),
      async () => {
        await sqlOn(url, [
          'drop schema if exists copy cascade',
          'create schema copy',
          'create table copy.leads (like public.leads including all)',
          `select create_distributed_table('copy.leads', 'device_id', colocate_with => 'public.leads')`,
          'insert into copy.leads overriding system value select * from public.leads',
          `delete from copy.leads l using (select device_id, id, row_number() over (partition by device_id, phone order by created_at, id) as rn
             from copy.leads where phone is not null) d where l.device_id = d.device_id and l.id = d.id and d.rn > 1`,
          'vacuum analyze copy.leads',
        ]);
      },
    );
    // clean changes both tables: each run gets a fresh copy of them, distributed the same way (untimed; citus-clean.ts).
    if (wanted('clean')) {
      const loadBefore = loadAverage();
      const nodeUrls = nodes.map((node) => withDatabaseName(node, name));
      const runs = await measureCitusClean({ url, nodeUrls, rounds: options.rounds, tool, psql, log });
      cases.push({ ...summarise('citus clean', runs.tool, runs.baseline), longestBatchMs: runs.longestBatchMs, loadBefore });
    }
    const [version] = (await sqlOn(clusterUrl, ['select extversion as citus from pg_extension where extname = $$citus$$']))[0]!;
    return {
      rows: options.rows,
      rounds: options.rounds,
      date: new Date().toISOString(),
      cores: cpus().length,
      node: process.version,
      postgres: { ...(await serverSettings(url)), citus: String(version!.citus), workers: String(nodes.length - 1) },
      cases,
    };
  } finally {
    for (const node of nodes) await sqlOn(withDatabaseName(node, 'postgres'), [`drop database if exists ${name} with (force)`]);
  }
}

/** The database on the coordinator and every worker, with the extension, and the nodes registered in it (Citus keeps them per database). */
async function createEverywhere(clusterUrl: string, name: string): Promise<string[]> {
  const workers = (await sqlOn(clusterUrl, [`select nodename, nodeport from pg_dist_node where groupid <> 0 and noderole = 'primary' order by nodeport`]))[0]!;
  const coordinator = new URL(clusterUrl);
  const workerUrls = workers.map((w) => Object.assign(new URL(clusterUrl), { hostname: String(w.nodename), port: String(w.nodeport) }).toString());
  const nodes = [clusterUrl, ...workerUrls];
  for (const node of nodes) {
    await sqlOn(withDatabaseName(node, 'postgres'), [`drop database if exists ${name} with (force)`, `create database ${name}`]);
    await sqlOn(withDatabaseName(node, name), ['create extension citus']);
  }
  await sqlOn(withDatabaseName(clusterUrl, name), [
    `select citus_set_coordinator_host('${coordinator.hostname}', ${Number(coordinator.port || 5432)})`,
    ...workers.map((w) => `select citus_add_node('${w.nodename}', ${w.nodeport})`),
  ]);
  return nodes;
}

export const CITUS_RESULT_FILE = (root: string, rows: number) => join(root, 'bench', 'results', `citus-${rows}.json`);
