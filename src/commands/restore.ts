import type { ActionRunner } from '../cli/program.js';
import { Command, Option } from 'commander';
import { addTableOptions, type TableFlags } from '../cli/common-options.js';
import { stoppable, watchSignals } from '../cli/interrupt.js';
import { note, withSpinner, writeReport } from '../cli/output.js';
import { resolveTableSettings } from '../cli/settings.js';
import { archiveSchema, CLEAN_DEFAULTS } from '../core/clean/clean-settings.js';
import { optionalDuration } from '../core/inputs/duration.js';
import { parseWholeNumber, WHOLE_RANGES } from '../core/inputs/whole-number.js';
import { restoreRun, type RestoreOptions, type RestoreResult } from '../core/clean/restore.js';
import type { Database } from '../db/database.js';
import { firstLineOf } from '../db/database-error.js';
import { withDatabase } from '../db/with-database.js';
import { ExitCode, FileWriteError, InterruptedError } from '../errors.js';
import { renderCleanReport, type CleanFormat } from '../render/clean-render.js';

interface RestoreFlags extends TableFlags {
  execute?: boolean;
  force?: boolean;
  archiveSchema?: string;
  lockTimeout?: string;
  statementTimeout?: string;
  format: CleanFormat;
  output?: string;
  quiet?: boolean;
}

export function restoreCommand(run: ActionRunner): Command {
  const command = new Command('restore').description('undo a clean run: removed rows back with their ids, merged keepers and child rows back (dry run unless --execute)');
  addTableOptions(command);
  return command
    .argument('<run-id>', 'the run to undo (see lead-dedupe runs)')
    .option('--execute', 'apply the restore (without it: rehearse it in a transaction that is rolled back)')
    .option('--force', 'also put back merged keeper columns the application changed since the clean (default: leave them and report them)')
    .option('--archive-schema <name>', 'schema of the archive (default: lead_dedupe)')
    .option('--lock-timeout <duration>', 'give up when a lock is not granted within this long, e.g. 5s (default: 5s, as clean)')
    .option('--statement-timeout <duration>', 'cancel a statement running longer than this, e.g. 10m (default: 60s, as clean)')
    .addOption(new Option('--format <format>', 'report format').choices(['table', 'json']).default('table'))
    .option('--output <file>', 'write the report to a file instead of stdout')
    .option('--quiet', 'print nothing but errors')
    .action((runId: string, flags: RestoreFlags) => run(() => runRestore(runId, flags)));
}

async function runRestore(runIdText: string, flags: RestoreFlags): Promise<ExitCode> {
  const runId = parseWholeNumber(runIdText, 'the run id', WHOLE_RANGES.runId);
  const settings = resolveTableSettings(flags);
  const schema = archiveSchema(flags.archiveSchema ?? stringSetting(settings.config.commands?.clean?.archiveSchema));
  // clean's grammar and defaults; every session of the restore starts with them (a database-level statement_timeout does not apply).
  const timeouts = {
    lockTimeoutMs: optionalDuration(flags.lockTimeout, '--lock-timeout', 1, CLEAN_DEFAULTS.lockTimeoutMs),
    statementTimeoutMs: optionalDuration(flags.statementTimeout, '--statement-timeout', 1, CLEAN_DEFAULTS.statementTimeoutMs),
  };
  const options = { runId, archiveSchema: schema, execute: flags.execute ?? false, force: flags.force ?? false, ...timeouts };
  const result = await withDatabase(
    settings.target,
    (database) =>
      options.execute
        ? executeRestore(database, options, flags)
        : stoppable(database, 'nothing was changed', (db) => withSpinner('rehearsing the restore', flags, () => restoreRun(db, options))),
    timeouts,
  );
  const report = renderCleanReport({ kind: 'restore', result }, flags.format);
  try {
    await writeReport(report, flags);
  } catch (error) {
    if (!options.execute) throw error;
    // the restore is committed: say so (exit 1, never 2), with the summary on stdout
    if (!flags.quiet) process.stdout.write(report);
    throw new FileWriteError(`run ${runId} was restored, but ${firstLineOf(error)}`);
  }
  // Restored, but columns the application changed were left alone: a person should look (the report lists them).
  const leftAlone = result.executed && !result.keeperConflicts.overwritten && result.keeperConflicts.total > 0;
  return leftAlone ? ExitCode.runtime : ExitCode.ok;
}

/**
 * One transaction: the first SIGINT/SIGTERM lets it finish (then it is done,
 * exit 0), the second rolls it back (its statement cancelled), exit 130.
 */
async function executeRestore(database: Database, options: RestoreOptions, flags: RestoreFlags): Promise<RestoreResult> {
  const interrupt = watchSignals({
    first: () => note('finishing the restore (one transaction)… (again: roll it back and stop now)', flags),
    second: () => void database.cancel?.(),
  });
  try {
    return await withSpinner('restoring', flags, () => restoreRun(database, options, { cancel: interrupt.now }));
  } catch (error) {
    const signal = interrupt.received();
    if (interrupt.now.aborted && signal !== null) throw new InterruptedError(`interrupted by ${signal}: the restore of run ${options.runId} was rolled back; nothing was changed`);
    throw error;
  } finally {
    interrupt.dispose();
  }
}

function stringSetting(value: unknown): string | undefined {
  return value === undefined ? undefined : String(value);
}
