import { writeFile } from 'node:fs/promises';
import { UsageError } from '../errors.js';

/** stdout carries only the report; --output sends it to a file instead. */
export async function writeReport(text: string, flags: { output?: string; quiet?: boolean }): Promise<void> {
  if (flags.output !== undefined) {
    try {
      await writeFile(flags.output, text);
    } catch (error) {
      throw new UsageError(`cannot write ${flags.output}: ${(error as Error).message}`);
    }
    return;
  }
  if (!flags.quiet) process.stdout.write(text);
}

/** A one-line note for a person (stderr), never mixed into the report. */
export function note(text: string, flags: { quiet?: boolean }): void {
  if (!flags.quiet) process.stderr.write(`${text}\n`);
}

/**
 * Runs `task` under a spinner with elapsed seconds, on stderr and only when
 * stderr is a terminal: cron mail and pipes get nothing but the report.
 */
export async function withSpinner<T>(label: string, flags: { quiet?: boolean }, task: () => Promise<T>): Promise<T> {
  if (flags.quiet || !process.stderr.isTTY) return task();
  const { default: ora } = await import('ora');
  const started = Date.now();
  const spinner = ora({ text: label, stream: process.stderr }).start();
  const timer = setInterval(() => {
    spinner.text = `${label} ${Math.round((Date.now() - started) / 1000)} s`;
  }, 1000);
  try {
    const result = await task();
    spinner.stop();
    return result;
  } catch (error) {
    spinner.stop();
    throw error;
  } finally {
    clearInterval(timer);
  }
}
