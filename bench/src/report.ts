export interface CaseResult {
  name: string;
  toolSeconds: number;
  baselineSeconds: number;
  /** tool / baseline, medians of the same run */
  ratio: number;
  toolRuns: number[];
  baselineRuns: number[];
  toolPeakRssMb: number;
  /** clean only: the longest batch transaction of any run (row locks held). */
  longestBatchMs?: number;
  /** diagnose only: its tool time over scan one key's tool time (target ≤ 2.5). */
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
  const lines = [
    `### ${result.rows.toLocaleString('en-US')} rows (${result.date.slice(0, 10)}, commit ${result.commit}, ${result.cores} cores, PostgreSQL ${result.postgres.server_version ?? '?'}, median of ${result.rounds})`,
    '',
    '| case | tool s | baseline s | ratio | tool peak RSS | tool runs | baseline runs |',
    '|---|---|---|---|---|---|---|',
    ...result.cases.map(
      (c) =>
        `| ${c.name} | ${c.toolSeconds.toFixed(2)} | ${c.baselineSeconds.toFixed(2)} | ${c.ratio.toFixed(2)} | ${Math.round(c.toolPeakRssMb)} MB | ${c.toolRuns.join(' ')} | ${c.baselineRuns.join(' ')} |`,
    ),
    '',
    ...result.cases.filter((c) => c.vsScanOneKey !== undefined).map((c) => `${c.name}: ${c.vsScanOneKey!.toFixed(2)}× scan one key (target ≤ 2.5)`),
    ...result.cases
      .filter((c) => c.queryMs !== undefined)
      .map(
        (c) =>
          `${c.name}: query ${c.queryMs!.tool} ms against ${c.queryMs!.fullScan} ms for the full scan (${(c.queryMs!.ratio * 100).toFixed(1)}%; target ≤ 2% with the key index, ≤ 40% without), process ${c.toolSeconds.toFixed(2)} s (target ≤ 0.6 s); figures equal the oracle ${JSON.stringify(c.oracle)}`,
      ),
    ...result.cases.filter((c) => c.longestBatchMs !== undefined).map((c) => `${c.name}: longest batch transaction (row locks held) ${c.longestBatchMs} ms`),
    '',
  ];
  return `${lines.join('\n')}\n`;
}
