import { cleanProgress } from '../cli/clean-progress.js';
import { watchSignals } from '../cli/interrupt.js';
import { lockWaitStatus, note, writeReport } from '../cli/output.js';
import type { OutputFlags } from '../cli/options.js';
import { applyClean } from '../clean/apply-clean.js';
import type { CleanOptions, CleanResult } from '../clean/types.js';
import type { OpenedPlan } from '../clean/plan-file/read-plan.js';
import { abortable } from '../db/abortable.js';
import type { Database } from '../db/database.js';
import { firstLineOf } from '../db/database-error.js';
import { ExitCode } from '../errors.js';
import { restoreCommandFor, type CommandLineContext } from '../keys/key-command-line.js';
import { renderClean, type CleanFormat } from '../render/clean/index.js';
import { unindexedChildKeyLines } from '../render/clean/warnings.js';
import type { RenderContext } from '../render/common/render-as.js';
import { formatCount } from '../render/common/format.js';
import { exportRemoved } from './clean-export-removed.js';

export interface ExecuteFlags extends OutputFlags<CleanFormat> {
  exportRemoved?: string;
}

/**
 * `clean --execute`, of a key or of a plan file. The first SIGINT/SIGTERM
 * stops after the batch in flight, the second rolls it back at once (its
 * statement cancelled); either way the run is marked interrupted, the summary
 * printed, the exit code 130. Once batches have committed, a file that cannot
 * be written is reported with the run id and how to undo it, after the
 * summary, with exit 1 (never 2: data changed).
 */
export async function executeClean(
  database: Database,
  options: CleanOptions,
  flags: ExecuteFlags,
  context: RenderContext,
  commandLine: CommandLineContext,
  plan: OpenedPlan | null = null,
): Promise<ExitCode> {
  // A batch that waits on a lock has changed nothing yet: the first signal then cancels the wait (rolled back) instead of waiting it out.
  let waitingOnLock = false;
  const interrupt = watchSignals({
    first: () => {
      if (!waitingOnLock) return note('stopping after the current batch… (again: roll it back and stop now)', flags);
      note('stopping: the batch waiting on a lock is rolled back…', flags);
      void database.cancel?.();
    },
    second: () => {
      note('rolling back the batch in flight…', flags);
      void database.cancel?.();
    },
  });
  try {
    const progress = await cleanProgress(flags);
    let result: CleanResult;
    try {
      result = await applyClean(
        database,
        options,
        {
          commandLine,
          signal: interrupt.stop,
          cancel: interrupt.now,
          onProgress: (p) => progress.update(p),
          onLockWait: (blockers) => {
            waitingOnLock = blockers.length > 0;
            progress.waiting(lockWaitStatus(blockers));
          },
          onUnindexedChildKeys: (keys) => {
            for (const line of unindexedChildKeyLines(keys)) note(line, flags);
          },
        },
        plan,
      );
    } finally {
      progress.stop();
    }
    const failures: string[] = [];
    let writeFailed = false;
    if (flags.exportRemoved !== undefined) {
      // Still written after a first signal (the rows removed so far); a second one skips it.
      const failure = await exportRemoved({ ...database, db: abortable(database.db, interrupt.now) }, options, result, flags.exportRemoved, flags);
      if (failure !== null && interrupt.now.aborted) failures.push(`--export-removed ${flags.exportRemoved} was not written (interrupted)`);
      else if (failure !== null) failures.push(failure);
      writeFailed = failure !== null && !interrupt.now.aborted;
    }
    const report = renderClean({ kind: 'result', result }, flags.format, context, commandLine);
    try {
      await writeReport(report, flags);
    } catch (error) {
      failures.push(firstLineOf(error));
      writeFailed = true;
      // the summary is what says what changed and how to undo it: stdout, then
      if (!flags.quiet) process.stdout.write(report);
    }
    if (result.stoppedBecause !== null) note(`lead-dedupe: ${result.stoppedBecause}`, {});
    const done = describeRun(result, commandLine);
    for (const failure of failures) note(`lead-dedupe: ${done.text}, but ${failure}${done.undo}`, {});
    return executeExitCode(result, writeFailed);
  } finally {
    interrupt.dispose();
  }
}

/** What the run changed, the start of each line that reports a file not written, and how to undo it: the restore on a line of its own. */
function describeRun(result: CleanResult, commandLine: CommandLineContext): { text: string; undo: string } {
  const changed = result.rowsRemoved > 0 || result.rowsMerged > 0;
  return changed
    ? {
        text: `clean run ${result.runId} removed ${formatCount(result.rowsRemoved)} rows`,
        undo: `; undo it with:\n  ${restoreCommandFor(result.runId, result.archiveSchema, { execute: true }, commandLine)}`,
      }
    : { text: `clean run ${result.runId} changed nothing`, undo: '' };
}

/** A file not written outranks an interruption (exit 1, not 130): the data changed and a promised output is missing. */
function executeExitCode(result: CleanResult, writeFailed: boolean): ExitCode {
  if (writeFailed) return ExitCode.runtime;
  if (result.status === 'interrupted') return ExitCode.interrupted;
  return result.status === 'done' ? ExitCode.ok : ExitCode.runtime;
}
