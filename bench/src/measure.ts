import { loadavg } from 'node:os';
import type { CaseResult } from './report.js';
import { spawn } from 'node:child_process';
import { sqlOn } from './sql-on.js';

export interface Measured {
  seconds: number;
  /** Peak resident set size of the process, from /usr/bin/time. */
  peakRssMb: number;
  stdout: string;
  /** Bytes of temporary files the server wrote for the run's database (pg_stat_database.temp_bytes, after minus before). */
  serverTempBytes?: number;
}

/**
 * Runs one command to completion and measures its wall time (from spawn to
 * exit, as a DBA would see it) and its peak RSS. A non-zero exit is an error:
 * a benchmark of a failing command measures nothing.
 */
export async function measure(command: string, args: string[], env: NodeJS.ProcessEnv = {}, tempBytesOf?: string): Promise<Measured> {
  if (tempBytesOf === undefined) return run(command, args, env);
  const before = await serverTempBytes(tempBytesOf);
  const measured = await run(command, args, env);
  // The run's backends report their temporary files when they exit, just after the client does.
  await new Promise((resolve) => setTimeout(resolve, 500));
  return { ...measured, serverTempBytes: (await serverTempBytes(tempBytesOf)) - before };
}

/**
 * The tool (`bin`) on the database at `url`, and psql running `commands` there: each measured with
 * the server's temporary files for that database unless `serverTemp` is false (Citus: its workers
 * spill on their own nodes).
 */
export const measureTool = (bin: string, url: string, args: string[], { serverTemp = true } = {}) =>
  measure(process.execPath, [bin, ...args, '--database', url], {}, serverTemp ? url : undefined);
export const measurePsql = (url: string, commands: string[], { serverTemp = true } = {}) =>
  measure('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', url, ...commands.flatMap((c) => ['-c', c])], {}, serverTemp ? url : undefined);

async function serverTempBytes(url: string): Promise<number> {
  const [rows] = await sqlOn(url, ['select temp_bytes from pg_stat_database where datname = current_database()']);
  return Number(rows![0]!.temp_bytes);
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn('/usr/bin/time', ['-f', 'peak-rss-kb=%M', command, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = (performance.now() - started) / 1000;
      const rss = /peak-rss-kb=(\d+)/.exec(stderr);
      if (code !== 0) {
        reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`));
        return;
      }
      resolve({ seconds, peakRssMb: rss ? Number(rss[1]) / 1024 : Number.NaN, stdout });
    });
  });
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** The longest batch transaction of `clean --format json` runs: the longest any row lock was held (it must stay under --lock-timeout). */
export function longestBatchMs(runs: Measured[]): number {
  return Math.max(...runs.map((m) => (JSON.parse(m.stdout) as { longestBatchMs: number }).longestBatchMs));
}

/** The machine's 1-, 5- and 15-minute load averages (the bench shares its cores with the server and anything else running). */
export const loadAverage = () => loadavg().map((n) => Math.round(n * 100) / 100) as [number, number, number];

/** One case's medians, ratio, spread (min, max) and every run, tool against baseline. */
export function summarise(name: string, tool: Measured[], baseline: Measured[]): CaseResult {
  const toolMedian = median(tool.map((m) => m.seconds));
  const baselineMedian = median(baseline.map((m) => m.seconds));
  const spread = (runs: Measured[]) => ({ min: round3(Math.min(...runs.map((m) => m.seconds))), max: round3(Math.max(...runs.map((m) => m.seconds))) });
  return {
    name,
    toolSeconds: toolMedian,
    baselineSeconds: baselineMedian,
    ratio: toolMedian / baselineMedian,
    toolSpread: spread(tool),
    baselineSpread: spread(baseline),
    toolRuns: tool.map((m) => round3(m.seconds)),
    baselineRuns: baseline.map((m) => round3(m.seconds)),
    toolPeakRssMb: Math.max(...tool.map((m) => m.peakRssMb)),
    ...serverTempMb(tool, baseline),
  };
}

/** The most temporary-file megabytes the server wrote in any run of each side, where the runs measured it. */
export function serverTempMb(tool: Measured[], baseline: Measured[]): Pick<CaseResult, 'serverTempMb'> {
  const most = (runs: Measured[]) => Math.max(...runs.map((m) => (m.serverTempBytes ?? Number.NaN) / 1024 / 1024));
  const figures = { tool: most(tool), baseline: most(baseline) };
  return Number.isNaN(figures.tool) && Number.isNaN(figures.baseline) ? {} : { serverTempMb: figures };
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;
