import { citusCleanSql } from './baseline-sql.js';
import { longestBatchMs, type Measured } from './measure.js';
import { sqlOn } from './sql-on.js';

/**
 * The citus clean case: `clean --execute` (delete mode, key device-phone,
 * oldest kept) against citusCleanSql, each run on a fresh identical copy of
 * leads and lead_activities (untimed), distributed like public's tables. After
 * every round both sides must have left the same tables: the same number of
 * leads (the same ids), the same number of activities pointing at each remaining lead, and
 * as many rows in each archive; the bench fails otherwise.
 */
export interface CitusCleanContext {
  /** The bench database on the coordinator. */
  url: string;
  /** Every node of the cluster (coordinator first), each checkpointed before a run. */
  nodeUrls: string[];
  rounds: number;
  tool: (args: string[]) => () => Promise<Measured>;
  psql: (...commands: string[]) => () => Promise<Measured>;
  log: (text: string) => void;
}

export interface CitusCleanRuns {
  tool: Measured[];
  baseline: Measured[];
  /** The longest batch transaction of any tool run (row locks held), from its JSON output. */
  longestBatchMs: number;
}

const COPIES = { tool: 'copy_tool', baseline: 'copy_baseline' } as const;
type Side = keyof typeof COPIES;
/** Each side's archive of removed rows and re-pointed child rows (the tool's --archive-schema, citusCleanSql's own tables). */
const TOOL_ARCHIVE = (schema: string) => ({ removed: `${schema}_archive.lead_dedupe_removed`, moved: `${schema}_archive.lead_dedupe_moved` });
const HAND_ARCHIVE = (schema: string) => ({ removed: `${schema}_hand_archive.removed`, moved: `${schema}_hand_archive.moved` });

export async function measureCitusClean({ url, nodeUrls, rounds, tool, psql, log }: CitusCleanContext): Promise<CitusCleanRuns> {
  const runs: Record<Side, Measured[]> = { tool: [], baseline: [] };
  const seededLeads = Number((await sqlOn(url, ['select count(*) as n from public.leads']))[0]![0]!.n);
  for (let round = 0; round < rounds; round++) {
    const outcome = {} as Record<Side, TablesState>;
    for (const side of round % 2 === 0 ? (['tool', 'baseline'] as const) : (['baseline', 'tool'] as const)) {
      const schema = COPIES[side];
      await distributedCopy(url, schema);
      for (const node of nodeUrls) await sqlOn(node, ['checkpoint']);
      const run =
        side === 'tool'
          ? tool([
              'clean',
              '--table',
              `${schema}.leads`,
              '--key',
              'device-phone',
              '--mode',
              'delete',
              '--execute',
              '--archive-schema',
              `${schema}_archive`,
              '--format',
              'json',
            ])
          : psql(...citusCleanSql(schema));
      runs[side].push(await run());
      outcome[side] = await tablesState(url, schema, side === 'tool' ? TOOL_ARCHIVE(schema) : HAND_ARCHIVE(schema));
    }
    log(
      `citus clean round ${round + 1}: tool ${runs.tool.at(-1)!.seconds.toFixed(2)} s, baseline ${runs.baseline.at(-1)!.seconds.toFixed(2)} s; ` +
        `tool left ${describe(outcome.tool, seededLeads)}, baseline ${describe(outcome.baseline, seededLeads)}`,
    );
    assertSameTables(outcome, seededLeads);
  }
  return { ...runs, longestBatchMs: longestBatchMs(runs.tool) };
}

/** leads and lead_activities copied into `schema`, distributed and co-located with public's, with the composite foreign key. */
async function distributedCopy(url: string, schema: string): Promise<void> {
  await sqlOn(url, [
    `drop schema if exists ${schema} cascade`,
    `drop schema if exists ${schema}_archive cascade`,
    `drop schema if exists ${schema}_hand_archive cascade`,
    `create schema ${schema}`,
    `create table ${schema}.leads (like public.leads including all)`,
    `select create_distributed_table('${schema}.leads', 'device_id', colocate_with => 'public.leads')`,
    `insert into ${schema}.leads overriding system value select * from public.leads`,
    `create table ${schema}.lead_activities (like public.lead_activities including all)`,
    `select create_distributed_table('${schema}.lead_activities', 'device_id', colocate_with => 'public.leads')`,
    `insert into ${schema}.lead_activities overriding system value select * from public.lead_activities`,
    `alter table ${schema}.lead_activities add foreign key (device_id, lead_id) references ${schema}.leads (device_id, id) on delete cascade`,
    `vacuum analyze ${schema}.leads`,
    `vacuum analyze ${schema}.lead_activities`,
  ]);
}

/**
 * What a clean leaves, computed on the coordinator: the leads left (how
 * many, and a digest of their ids), a digest of how many activities point at
 * each of them, and how many rows each archive holds.
 */
interface TablesState {
  leads: number;
  leadIdsMd5: string;
  activities: number;
  leadsWithActivities: number;
  activitiesPerLeadMd5: string;
  removedArchived: number;
  movedArchived: number;
}

async function tablesState(url: string, schema: string, archive: { removed: string; moved: string }): Promise<TablesState> {
  const [leadRows, activityRows, archiveRows] = await sqlOn(url, [
    `select count(*) as n, md5(string_agg(id::text, ',' order by id)) as digest from ${schema}.leads`,
    // grouped by (device_id, lead_id), the distribution column first, so each shard counts its own
    `select coalesce(sum(n), 0) as activities, count(*) as leads, md5(string_agg(device_id || ':' || lead_id || ':' || n, ',' order by device_id, lead_id)) as digest
     from (select device_id, lead_id, count(*) as n from ${schema}.lead_activities group by device_id, lead_id) per_lead`,
    `select (select count(*) from ${archive.removed}) as removed, (select count(*) from ${archive.moved}) as moved`,
  ]);
  const [leads, activities, archived] = [leadRows![0]!, activityRows![0]!, archiveRows![0]!];
  return {
    leads: Number(leads.n),
    leadIdsMd5: String(leads.digest),
    activities: Number(activities.activities),
    leadsWithActivities: Number(activities.leads),
    activitiesPerLeadMd5: String(activities.digest),
    removedArchived: Number(archived.removed),
    movedArchived: Number(archived.moved),
  };
}

function describe(state: TablesState, seededLeads: number): string {
  return `${state.leads} of ${seededLeads} leads, ${state.activities} activities on ${state.leadsWithActivities} leads (md5 ${state.activitiesPerLeadMd5.slice(0, 8)}), archived ${state.removedArchived} removed and ${state.movedArchived} moved`;
}

function assertSameTables(outcome: Record<Side, TablesState>, seededLeads: number): void {
  const { tool, baseline } = outcome;
  if (JSON.stringify(tool) !== JSON.stringify(baseline)) {
    throw new Error(
      `citus clean: the tool and the hand-written transaction left different tables: tool ${JSON.stringify(tool)}, baseline ${JSON.stringify(baseline)}`,
    );
  }
  if (tool.leads >= seededLeads) throw new Error(`citus clean: neither side removed any of the ${seededLeads} leads; the comparison would prove nothing`);
}
