import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/lead-dedupe.js', import.meta.url));
/** How the binary's suggested commands start when runCli runs it from the suites' folder (src/cli/invocation.ts): `node bin/lead-dedupe.js`. */
export const PRINTED_INVOCATION = `node ${relative(process.cwd(), BIN)}`;
const BUNDLE = fileURLToPath(new URL('../../dist/lead-dedupe.cjs', import.meta.url));

/** End-to-end suites test the built bundle; fail clearly when it is missing. */
export function assertBuilt(): void {
  if (!existsSync(BUNDLE)) throw new Error('dist is not built: run `npm run build` (npm test does)');
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built binary (npm test builds first) the way a DBA or cron would. */
export function runCli(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: options.cwd, env: { ...process.env, DATABASE_URL: '', ...options.env }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

export interface Running {
  child: ChildProcess;
  /** stdout so far (in a terminal: everything the terminal showed). */
  output(): string;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

/** Starts the binary without waiting for it, for tests that signal it mid-run. */
export function startCli(args: string[], options: { env?: NodeJS.ProcessEnv } = {}): Running {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, DATABASE_URL: '', ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  return collect(child);
}

/**
 * Runs the binary on a real pseudo-terminal (util-linux `script`), of the
 * given size, as a user at a terminal does: what is written to `child.stdin`
 * is typed on that terminal (\x03 is Ctrl-C), the exit code is the binary's
 * (`script -e`), stdout is everything the terminal showed (stdout and stderr).
 */
export function startInTerminal(args: string[], size: { rows: number; cols: number }, options: { env?: NodeJS.ProcessEnv } = {}): Running {
  const command = `stty rows ${size.rows} cols ${size.cols} && exec ${[process.execPath, BIN, ...args].map(shellQuote).join(' ')}`;
  const child = spawn('script', ['-qfec', command, '/dev/null'], {
    env: { ...process.env, DATABASE_URL: '', SHELL: '/bin/sh', ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  return collect(child);
}

function collect(child: ChildProcess): Running {
  let stdout = '';
  let stderr = '';
  // decoded as a stream: a character split across two chunks (a box-drawing line) stays whole
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, output: () => stdout, done };
}

function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}
