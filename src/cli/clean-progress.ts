import type { CleanProgress } from '../clean/types.js';
import { formatCount, formatDuration } from '../render/common/format.js';
import { startSpinner } from './spinner.js';

export interface ProgressReporter {
  update(progress: CleanProgress): void;
  message(text: string): void;
  /** What the batch in flight waits for (a lock holder), after the progress line; null: no longer waiting. */
  waiting(text: string | null): void;
  stop(): void;
}

/**
 * Batch n of m, rows removed, rate and ETA under a spinner, on stderr and
 * only on a terminal that can show it (cli/spinner.ts).
 */
export async function cleanProgress(flags: { quiet?: boolean }): Promise<ProgressReporter> {
  const spinner = await startSpinner('staging duplicate groups', flags);
  if (spinner === null) return { update: () => undefined, message: () => undefined, waiting: () => undefined, stop: () => undefined };
  let line = 'staging duplicate groups';
  let waitingFor: string | null = null;
  const draw = () => spinner.update(waitingFor === null ? line : `${line} · ${waitingFor}`);
  return {
    update(progress) {
      const seconds = progress.elapsedMs / 1000;
      const rate = seconds > 0 ? Math.round(progress.rowsRemoved / seconds) : 0;
      const eta = progress.batch > 0 ? ((progress.batches - progress.batch) * progress.elapsedMs) / progress.batch : 0;
      line = `batch ${formatCount(progress.batch)} of ${formatCount(progress.batches)} · ${formatCount(progress.rowsRemoved)} rows removed · ${formatCount(rate)} rows/s · ETA ${formatDuration(Math.round(eta))}`;
      draw();
    },
    message(text) {
      line = text;
      draw();
    },
    waiting(text) {
      waitingFor = text;
      draw();
    },
    stop() {
      spinner.stop();
    },
  };
}
