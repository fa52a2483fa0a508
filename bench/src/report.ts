export interface CaseResult {
  name: string;
  toolSeconds: number;
  baselineSeconds: number;
  /** tool / baseline, medians of the same run */
  ratio: number;
  /** fastest and slowest run of each side, beside the medians (the table derives them from the runs when absent) */
  toolSpread?: { min: number; max: number };
  baselineSpread?: { min: number; max: number };
  /** The machine's 1-, 5- and 15-minute load averages just before the case started. */
  loadBefore?: [number, number, number];
  toolRuns: number[];
  baselineRuns: number[];
  toolPeakRssMb: number;
  /** The most temporary-file megabytes the server wrote for one run of each side (NaN: that side's runs did not measure it). */
  serverTempMb?: { tool: number; baseline: number };
  /** clean and clean merge: the longest batch transaction of any run (row locks held). */
  longestBatchMs?: number;
  /** diagnose only: its tool time over scan one key's tool time (issue 31's target: ≤ 2.0). */
  vsScanOneKey?: number;
  /** scan since only: the tool's own query time (the report's durationMs), incremental against the full scan of the same key. */
  queryMs?: { tool: number; fullScan: number; ratio: number };
  /** scan since only: what the hand-written oracle counted (the tool's figures equalled it). */
  oracle?: { newRows: number; newSurplus: number; groupsTouched: number };
}

export interface BenchResult {
  rows: number;
  rounds: number;
  date: string;
  commit: string;
  cores: number;
  node: string;
  postgres: Record<string, string>;
  cases: CaseResult[];
}

export function renderMarkdown(result: BenchResult): string {
  const spread = (median: number, runs: number[]) => `${median.toFixed(2)} (${Math.min(...runs).toFixed(2)}–${Math.max(...runs).toFixed(2)})`;
  const settings = ['work_mem', 'shared_buffers', 'max_parallel_workers_per_gather', 'jit'].map((name) => `${name}=${result.postgres[name] ?? '?'}`).join(', ');
  const lines = [
    `### ${result.rows.toLocaleString('en-US')} rows (${result.date.slice(0, 10)}, commit ${result.commit}, ${result.cores} cores, PostgreSQL ${result.postgres.server_version ?? '?'}, median of ${result.rounds})`,
    '',
    `Server: ${settings}. Seconds as median (min–max); load = 1-minute load average before the case.`,
    '',
    '| case | tool s | baseline s | ratio | load | tool peak RSS | server temp files, tool / baseline |',
    '|---|---|---|---|---|---|---|',
    ...result.cases.map(
      (c) =>
        `| ${c.name} | ${spread(c.toolSeconds, c.toolRuns)} | ${spread(c.baselineSeconds, c.baselineRuns)} | ${c.ratio.toFixed(2)} | ${c.loadBefore?.[0]?.toFixed(2) ?? '?'} | ${Number.isNaN(c.toolPeakRssMb) ? '–' : `${Math.round(c.toolPeakRssMb)} MB`} | ${tempFiles(c)} |`,
    ),
    '',
    ...result.cases
      .filter((c) => c.vsScanOneKey !== undefined)
      .map((c) => `${c.name}: ${c.vsScanOneKey!.toFixed(2)}× scan one key (target ≤ ${c.name === 'suspects' ? 3 : 2})`),
    ...result.cases
      .filter((c) => c.queryMs !== undefined)
      .map(
        (c) =>
          `${c.name}: query ${c.queryMs!.tool} ms against ${c.queryMs!.fullScan} ms for the full scan (${(c.queryMs!.ratio * 100).toFixed(1)}%; target ≤ 2% with the key index, ≤ 40% without), process ${c.toolSeconds.toFixed(2)} s (target ≤ 0.6 s); figures equal the oracle ${JSON.stringify(c.oracle)}`,
      ),
    ...result.cases.filter((c) => c.longestBatchMs !== undefined).map((c) => `${c.name}: longest batch transaction (row locks held) ${c.longestBatchMs} ms`),
    ...result.cases
      .filter((c) => c.name === 'startup')
      .map(
        (c) =>
          `startup: first statement ${Math.round(c.toolSeconds * 1000)} ms after spawn (target ≤ 60 ms), node -e 0 ${Math.round(c.baselineSeconds * 1000)} ms to its exit`,
      ),
    ...result.cases.filter((c) => c.name === 'clean merge').map((c) => `clean merge: ${c.ratio.toFixed(2)}× the tool's delete mode (target ≤ 1.2)`),
    '',
  ];
  return `${lines.join('\n')}\n`;
}

const tempFiles = (c: CaseResult) =>
  c.serverTempMb === undefined
    ? '–'
    : [c.serverTempMb.tool, c.serverTempMb.baseline].map((mb) => (Number.isNaN(mb) ? '–' : `${Math.round(mb)} MB`)).join(' / ');
