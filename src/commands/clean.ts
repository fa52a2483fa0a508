import type { ActionRunner } from '../cli/program.js';
import { Command, Option } from 'commander';
import { addKeyOptions, addTableOptions, collect, oneKeyFlag, type KeyFlags, type TableFlags } from '../cli/common-options.js';
import { note, withSpinner, writeReport } from '../cli/output.js';
import { resolveKeySettings, resolveTableSettings } from '../cli/settings.js';
import { applyClean } from '../core/clean/apply-clean.js';
import { resolveCleanSettings, type CleanFlagValues } from '../core/clean/clean-settings.js';
import { removedColumns, streamRemovedRows } from '../core/clean/export-removed.js';
import { planClean } from '../core/clean/plan-clean.js';
import { loadOneKey } from '../core/lead-table.js';
import { withDatabase } from '../db/with-database.js';
import { ExitCode, UsageError } from '../errors.js';
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
  // SIGINT stops after the batch in flight (the core sees the signal); a second Ctrl-C kills as usual.
  const interrupt = new AbortController();
  const onSigint = () => {
    note('stopping after the current batch…', flags);
    interrupt.abort();
  };
  return withDatabase(settings.target, async (database) => {
    const key = await loadOneKey(database.db, settings, keySettings, keyText);
    const options = { key, ...cleanSettings };
    if (!flags.execute) {
      const plan = await withSpinner('planning', flags, () => planClean(database, options));
      for (const line of unindexedChildKeyLines(plan.unindexedChildKeys)) note(line, flags);
      await writeReport(renderCleanReport({ kind: 'plan', plan }, flags.format), flags);
      return ExitCode.ok;
    }
    const progress = await cleanProgress(flags);
    process.once('SIGINT', onSigint);
    let result;
    try {
      result = await applyClean(database, options, {
        signal: interrupt.signal,
        onProgress: (p) => progress.update(p),
        onUnindexedChildKeys: (keys) => unindexedChildKeyLines(keys).forEach((line) => note(line, flags)),
      });
    } finally {
      process.off('SIGINT', onSigint);
      progress.stop();
    }
    if (flags.exportRemoved !== undefined) {
      const csv = openCsvFile(flags.exportRemoved, removedColumns(key.table));
      const written = await streamRemovedRows(database, options.archiveSchema, result.runId, key.table, (rows) => csv.write(rows));
      await csv.close();
      note(`export: ${formatCount(written)} removed rows written to ${flags.exportRemoved}`, flags);
    }
    await writeReport(renderCleanReport({ kind: 'result', result }, flags.format), flags);
    if (result.stoppedBecause !== null) note(`lead-dedupe: ${result.stoppedBecause}`, {});
    return result.status === 'done' ? ExitCode.ok : ExitCode.runtime;
  });
}
