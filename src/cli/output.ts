import { startSpinner } from './spinner.js';
import { writeFileAtomically } from './atomic-file.js';

/**
 * stdout carries only the report; --output sends it to a file instead,
 * replaced whole or not at all (a FileWriteError, exit 1, if that fails).
 */
export async function writeReport(text: string, flags: { output?: string; quiet?: boolean }): Promise<void> {
  if (flags.output !== undefined && flags.output !== '-') {
    await writeFileAtomically(flags.output, text, '--output');
    return;
  }
  if (!flags.quiet) process.stdout.write(text);
}

/** A one-line note for a person (stderr), never mixed into the report. */
export function note(text: string, flags: { quiet?: boolean }): void {
  if (!flags.quiet) process.stderr.write(`${text}\n`);
}

/**
 * Runs `task` under a spinner with elapsed seconds, on stderr and only on a
 * terminal that can show it: cron mail and pipes get nothing but the report.
 */
export async function withSpinner<T>(label: string, flags: { quiet?: boolean }, task: () => Promise<T>): Promise<T> {
  const spinner = await startSpinner(label, flags);
  if (spinner === null) return task();
  const started = Date.now();
  const timer = setInterval(() => spinner.update(`${label} ${Math.round((Date.now() - started) / 1000)} s`), 1000);
  try {
    return await task();
  } finally {
    clearInterval(timer);
    spinner.stop();
  }
}
