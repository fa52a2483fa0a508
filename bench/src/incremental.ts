import pg from 'pg';
import { serverClientConfig } from '../../src/db/server-client-config.js';
import { loadAverage, measureTool, median, serverTempMb, type Measured } from './measure.js';
import type { CaseResult } from './report.js';

/**
 * The incremental case (scan --since) on the seeded table: an index on
 * created_at, then 1,000 new rows (400 copying existing leads, half of them
 * leads that had no duplicate; 50 new keys written twice; 500 new keys),
 * then `scan --key device-phone --since <before the insert>` against the
 * full `scan --key device-phone` of the same table, with the key index
 * (`index add`) and without it. Checked against a hand-written oracle
 * before anything is timed. Compares the tool's own query time (the
 * report's durationMs) and the whole process time.
 */
export async function incrementalCases(url: string, bin: string, rounds: number, log: (text: string) => void): Promise<CaseResult[]> {
  const run = (args: string[]) => () => measureTool(bin, url, args);
  await sqlOn(url, ['create index if not exists leads_created_at_idx on leads (created_at)']);
  const [row] = await sqlOn<{ before: string }>(url, [`select to_char(clock_timestamp() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as before`]);
  const before = row!.before;
  await insertBurst(url);
  await sqlOn(url, ['vacuum analyze leads']);
  const expected = await oracle(url, before);
  log(`incremental burst inserted; oracle: ${JSON.stringify(expected)}`);
  const incremental = run(['scan', '--key', 'device-phone', '--since', before, '--format', 'json']);
  const full = run(['scan', '--key', 'device-phone', '--format', 'json']);

  const cases: CaseResult[] = [];
  for (const variant of ['key index', 'no key index'] as const) {
    const index = await measureTool(bin, url, ['index', variant === 'key index' ? 'add' : 'drop', '--key', 'device-phone', '--execute'], { serverTemp: false });
    log(index.stdout.trim().split('\n')[0]!);
    const got = figuresOf(await incremental());
    if (JSON.stringify(got) !== JSON.stringify(expected))
      throw new Error(`scan --since (${variant}) ${JSON.stringify(got)} differs from the oracle ${JSON.stringify(expected)}`);
    const loadBefore = loadAverage();
    const tool: Measured[] = [];
    const baseline: Measured[] = [];
    for (let round = 0; round < rounds; round++) {
      for (const side of round % 2 === 0 ? ['tool', 'baseline'] : ['baseline', 'tool']) {
        (side === 'tool' ? tool : baseline).push(await (side === 'tool' ? incremental : full)());
      }
      log(`scan since (${variant}) round ${round + 1}: tool ${tool.at(-1)!.seconds.toFixed(2)} s, full scan ${baseline.at(-1)!.seconds.toFixed(2)} s`);
    }
    const toolQueryMs = median(tool.map(durationMs));
    const fullQueryMs = median(baseline.map(durationMs));
    const toolSeconds = median(tool.map((m) => m.seconds));
    const baselineSeconds = median(baseline.map((m) => m.seconds));
    cases.push({
      name: `scan since (${variant})`,
      toolSeconds,
      baselineSeconds,
      ratio: toolSeconds / baselineSeconds,
      toolRuns: tool.map((m) => Math.round(m.seconds * 1000) / 1000),
      baselineRuns: baseline.map((m) => Math.round(m.seconds * 1000) / 1000),
      toolPeakRssMb: Math.max(...tool.map((m) => m.peakRssMb)),
      ...serverTempMb(tool, baseline),
      loadBefore,
      queryMs: { tool: toolQueryMs, fullScan: fullQueryMs, ratio: toolQueryMs / fullQueryMs },
      oracle: expected,
    });
  }
  return cases;
}

interface Figures {
  newRows: number;
  newSurplus: number;
  groupsTouched: number;
}

function figuresOf(measured: Measured): Figures {
  const key = (JSON.parse(measured.stdout) as { keys: Figures[] }).keys[0]!;
  return { newRows: key.newRows, newSurplus: key.newSurplus, groupsTouched: key.groupsTouched };
}

function durationMs(measured: Measured): number {
  return (JSON.parse(measured.stdout) as { durationMs: number }).durationMs;
}

/** 1,000 rows: 200 copies of leads already duplicated, 200 of leads that had no duplicate, 50 new keys twice, 500 new keys once. */
async function insertBurst(url: string): Promise<void> {
  const columns = 'device_id, user_id, phone, niche, name, email, status, source, created_at';
  const copy = (having: string) => `insert into leads (${columns})
    select device_id, user_id, phone, niche, name, email, status, 'burst', clock_timestamp()
    from (select distinct on (device_id, phone) * from leads
          where phone is not null and (device_id, phone) in (select device_id, phone from leads where phone is not null group by 1, 2 having ${having} limit 200)
          order by device_id, phone, id) as picked`;
  await sqlOn(url, [
    copy('count(*) > 1'),
    copy('count(*) = 1'),
    `insert into leads (${columns})
      select 2000000000 - g, 1, '+6099' || g, null, 'burst pair', null, 'new', 'burst', clock_timestamp() from generate_series(1, 50) as g, generate_series(1, 2)`,
    `insert into leads (${columns})
      select 2000000000 - 1000 - g, 1, '+6098' || g, null, 'burst single', null, 'new', 'burst', clock_timestamp() from generate_series(1, 500) as g`,
  ]);
}

/** Ranks every row of the table (a whole-table window function, no window first): what the burst added. */
async function oracle(url: string, since: string): Promise<Figures> {
  const [row] = await sqlOn<Record<string, string>>(url, [
    `with ranked as (
      select created_at, row_number() over (partition by device_id, phone order by created_at, id) as rank,
             count(*) over (partition by device_id, phone) as n, device_id, phone
      from leads where device_id is not null and phone is not null)
    select (select count(*) from leads where created_at >= '${since}') as new_rows,
           (select count(*) from ranked where created_at >= '${since}' and rank > 1) as new_surplus,
           (select count(distinct (device_id, phone)) from ranked where created_at >= '${since}' and n > 1) as groups_touched`,
  ]);
  return { newRows: Number(row!.new_rows), newSurplus: Number(row!.new_surplus), groupsTouched: Number(row!.groups_touched) };
}

async function sqlOn<R = Record<string, unknown>>(url: string, statements: string[]): Promise<R[]> {
  const client = new pg.Client(await serverClientConfig(url));
  await client.connect();
  try {
    let rows: R[] = [];
    for (const statement of statements) rows = (await client.query(statement)).rows as R[];
    return rows;
  } finally {
    await client.end();
  }
}
