import type { CleanProgress } from '../core/clean/clean-types.js';
import { formatCount, formatDuration } from './format.js';

export interface ProgressReporter {
  update(progress: CleanProgress): void;
  message(text: string): void;
  stop(): void;
}

/**
 * Batch n of m, rows removed, rate and ETA under an ora spinner, on stderr
 * and only on a TTY (ora is loaded only then, as in cli/output.ts).
 */
export async function cleanProgress(flags: { quiet?: boolean }): Promise<ProgressReporter> {
  if (flags.quiet || !process.stderr.isTTY) return { update: () => undefined, message: () => undefined, stop: () => undefined };
  const { default: ora } = await import('ora');
  const spinner = ora({ text: 'staging duplicate groups', stream: process.stderr }).start();
  return {
    update(progress) {
      const seconds = progress.elapsedMs / 1000;
      const rate = seconds > 0 ? Math.round(progress.rowsRemoved / seconds) : 0;
      const eta = progress.batch > 0 ? ((progress.batches - progress.batch) * progress.elapsedMs) / progress.batch : 0;
      spinner.text = `batch ${formatCount(progress.batch)} of ${formatCount(progress.batches)} · ${formatCount(progress.rowsRemoved)} rows removed · ${formatCount(rate)} rows/s · ETA ${formatDuration(Math.round(eta))}`;
    },
    message(text) {
      spinner.text = text;
    },
    stop() {
      spinner.stop();
    },
  };
}
