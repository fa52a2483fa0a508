import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/lead-dedupe.js', import.meta.url));
const BUNDLE = fileURLToPath(new URL('../../dist/lead-dedupe.mjs', import.meta.url));

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
