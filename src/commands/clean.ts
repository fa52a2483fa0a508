import type { ActionRunner } from '../cli/program.js';
import { Command, Option } from 'commander';
import { addKeyOptions, addTableOptions, collect, oneKeyFlag, type KeyFlags, type TableFlags } from '../cli/common-options.js';
import { stoppable, watchSignals } from '../cli/interrupt.js';
import { note, withSpinner, writeReport } from '../cli/output.js';
import { resolveKeySettings, resolveTableSettings } from '../cli/settings.js';
import { applyClean } from '../core/clean/apply-clean.js';
import { resolveCleanSettings, type CleanFlagValues } from '../core/clean/clean-settings.js';
import type { CleanOptions, CleanResult } from '../core/clean/clean-types.js';
import { removedColumns, streamRemovedRows } from '../core/clean/export-removed.js';
import { planClean } from '../core/clean/plan-clean.js';
import { loadOneKey } from '../core/lead-table.js';
import { abortable } from '../db/abortable.js';
import type { Database } from '../db/database.js';
import { firstLineOf } from '../db/database-error.js';
import { withDatabase } from '../db/with-database.js';
import { ExitCode, FileWriteError, UsageError } from '../errors.js';
import { renderCleanReport, type CleanFormat } from '../render/clean-render.js';
import { cleanProgress } from '../render/clean-progress.js';
import { openCsvFile } from '../render/csv-file.js';
import { formatCount } from '../render/format.js';
import { unindexedChildKeyLines } from '../render/clean-warnings.js';

interface CleanFlags extends TableFlags, KeyFlags, CleanFlagValues {
  execute?: boolean;
  exportRemoved?: string;
  format: CleanFormat;
  output?: string;
  quiet?: boolean;
}

export function cleanCommand(run: ActionRunner): Command {
  const command = new Command('clean').description('remove or merge duplicates under one key, in archived batches (dry run unless --execute)');
  addTableOptions(command);
  addKeyOptions(command, 'the one key to clean: a preset (e.g. device-phone) or columns a,b,c');
  return command
    .addOption(new Option('--keep <policy>', 'row kept per group: oldest, newest, most-complete (default: oldest)').choices(['oldest', 'newest', 'most-complete']))
    .addOption(new Option('--mode <mode>', 'merge: fill the keeper\'s empty columns first; delete: keep it as is (default: merge)').choices(['merge', 'delete']))
    .option('--merge-rule <column=rule>', 'donor per column: newest, oldest, keeper (never fill), longest (repeatable)', collect, [])
    .option('--execute', 'apply the clean-up (without it: print the plan, change nothing)')
    .option('--batch-size <groups>', 'groups per transaction (default: 1000)')
    .option('--batch-rows <rows>', 'rows per transaction, the row locks it holds; a larger group is removed in chunks (default: 10000)')
    .option('--max-groups <n>', 'clean at most this many groups in this run')
    .option('--pause <duration>', 'pause between batches, e.g. 200ms (default: 0)')
    .option('--lock-timeout <duration>', 'give up waiting for row locks after this long, then retry the batch (default: 5s)')
    .option('--statement-timeout <duration>', 'cancel a statement running longer than this, then retry the batch (default: 60s)')
    .option('--retries <n>', 'retries of a timed-out batch, with backoff, before the run stops (default: 3)')
    .option('--archive-schema <name>', 'schema of the archive and run log, created on first use (default: lead_dedupe)')
    .option('--export-removed <file.csv>', 'with --execute: also write the removed rows to a CSV file')
    .option('--sample <n>', 'groups shown in the dry run (default: 5)')
    .addOption(new Option('--format <format>', 'report format').choices(['table', 'json']).default('table'))
    .option('--output <file>', 'write the report to a file instead of stdout')
    .option('--quiet', 'print nothing but errors')
    .action((flags: CleanFlags) => run(() => runClean(flags)));
}

async function runClean(flags: CleanFlags): Promise<ExitCode> {
  const keyText = oneKeyFlag(flags, 'clean');
  if (flags.exportRemoved !== undefined && !flags.execute) throw new UsageError('--export-removed needs --execute (a dry run removes nothing)');
  const settings = resolveTableSettings(flags);
  const keySettings = resolveKeySettings(flags, settings);
  const cleanSettings = resolveCleanSettings(flags, settings.config.commands?.clean);
  // Every session starts under --lock-timeout and --statement-timeout (the staging too), whatever the database or role sets.
  const timeouts = { lockTimeoutMs: cleanSettings.lockTimeoutMs, statementTimeoutMs: cleanSettings.statementTimeoutMs };
  return withDatabase(settings.target, async (database) => {
    const key = await loadOneKey(database.db, { ...settings, archiveSchema: cleanSettings.archiveSchema }, keySettings, keyText, 'clean');
    const options = { key, ...cleanSettings };
    // Without a created column, "oldest" and "newest" (keeper and merge donors) silently mean "by id": say so.
    const byAge = options.keep !== 'most-complete' || options.mode === 'merge';
    if (key.table.createdFallback !== undefined && byAge) {
      note(`lead-dedupe: ${key.table.createdFallback}: oldest/newest by ${key.table.idColumn} (name a date/time column with --created-column)`, flags);
    }
    if (!flags.execute) {
      const plan = await stoppable(database, 'nothing was changed', (db) => withSpinner('planning', flags, () => planClean(db, options)));
      for (const line of unindexedChildKeyLines(plan.unindexedChildKeys)) note(line, flags);
      await writeReport(renderCleanReport({ kind: 'plan', plan }, flags.format), flags);
      return ExitCode.ok;
    }
    return executeClean(database, options, flags);
  }, timeouts);
}

/**
 * The first SIGINT/SIGTERM stops after the batch in flight, the second rolls
 * it back at once (its statement cancelled); either way the run is marked
 * interrupted, the summary printed, the exit code 130. Once batches have
 * committed, a file that cannot be written is reported with the run id and
 * how to undo it, after the summary, with exit 1 (never 2: data changed).
 */
async function executeClean(database: Database, options: CleanOptions, flags: CleanFlags): Promise<ExitCode> {
  const interrupt = watchSignals({
    first: () => note('stopping after the current batch… (again: roll it back and stop now)', flags),
    second: () => {
      note('rolling back the batch in flight…', flags);
      void database.cancel?.();
    },
  });
  try {
    const progress = await cleanProgress(flags);
    let result: CleanResult;
    try {
      result = await applyClean(database, options, {
        signal: interrupt.stop,
        cancel: interrupt.now,
        onProgress: (p) => progress.update(p),
        onUnindexedChildKeys: (keys) => unindexedChildKeyLines(keys).forEach((line) => note(line, flags)),
      });
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
    const report = renderCleanReport({ kind: 'result', result }, flags.format);
    try {
      await writeReport(report, flags);
    } catch (error) {
      failures.push(firstLineOf(error));
      writeFailed = true;
      // the summary is what says what changed and how to undo it: stdout, then
      if (!flags.quiet) process.stdout.write(report);
    }
    if (result.stoppedBecause !== null) note(`lead-dedupe: ${result.stoppedBecause}`, {});
    const changed = result.rowsRemoved > 0 || result.rowsMerged > 0;
    const done = changed
      ? `clean run ${result.runId} removed ${formatCount(result.rowsRemoved)} rows (undo with: lead-dedupe restore ${result.runId} --execute)`
      : `clean run ${result.runId} changed nothing`;
    for (const failure of failures) note(`lead-dedupe: ${done}, but ${failure}`, {});
    if (writeFailed) return ExitCode.runtime;
    if (result.status === 'interrupted') return ExitCode.interrupted;
    return result.status === 'done' ? ExitCode.ok : ExitCode.runtime;
  } finally {
    interrupt.dispose();
  }
}

/** --export-removed: the run's removed rows from the archive; null when written, else why not. */
async function exportRemoved(database: Database, options: CleanOptions, result: CleanResult, path: string, flags: CleanFlags): Promise<string | null> {
  try {
    const csv = await openCsvFile(path, '--export-removed', removedColumns(options.key.table));
    let written: number;
    try {
      written = await streamRemovedRows(database, options.archiveSchema, result.runId, options.key.table, (rows) => csv.write(rows));
      await csv.close();
    } catch (error) {
      throw await csv.discard(error);
    }
    note(`export: ${formatCount(written)} removed rows written to ${path}`, flags);
    return null;
  } catch (error) {
    return error instanceof FileWriteError ? error.message : `cannot write --export-removed ${path}: ${firstLineOf(error)}`;
  }
}
