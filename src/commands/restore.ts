import { COMMON_EXIT_CODES } from '../cli/exit-codes-help.js';
import { Argument, Option } from '@commander-js/extra-typings';
import { defineCommand, type RunContext } from '../cli/command-spec.js';
import type { FlagsOf } from '../cli/flags-of.js';
import { archiveOption, collect, outputOptions, connectionOptions, timeoutOptions } from '../cli/options.js';
import { stoppable, watchSignals } from '../cli/interrupt.js';
import { note, withSpinner, writeReport, renderContext } from '../cli/output.js';
import { resolveArchiveSchema, resolveTableSettings } from '../cli/settings.js';
import { CLEAN_DEFAULTS } from '../clean/defaults.js';
import { optionalDuration } from '../cli/parse/duration.js';
import { parseWholeNumber, WHOLE_RANGES } from '../cli/parse/whole-number.js';
import { parseNameValue } from '../cli/parse/name-value.js';
import { restoreRun, type RestoreOptions, type RestoreResult } from '../clean/restore/restore.js';
import type { Database } from '../db/database.js';
import { firstLineOf } from '../db/database-error.js';
import { withDatabase } from '../db/with-database.js';
import { ExitCode, FileWriteError, InterruptedError } from '../errors.js';
import { renderRestore } from '../render/restore/index.js';

const RESTORE_OPTIONS = [
  ...connectionOptions(),
  new Option('--execute', 'apply the restore (without it: rehearse it in a transaction that is rolled back)'),
  new Option('--force', 'also put back merged keeper columns the application changed since the clean (default: leave them and report them)'),
  new Option(
    '--map <archived=column>',
    'a column renamed since the clean: restore its archived values into <column>, e.g. email=email_address (repeatable)',
  ).argParser(collect),
  new Option('--drop-column <name>', 'a column dropped since the clean: restore the rows without its archived values (repeatable)').argParser(collect),
  archiveOption('schema of the archive (default: lead_dedupe)'),
  ...timeoutOptions(),
  ...outputOptions(['table', 'json']),
] as const;

type RestoreFlags = FlagsOf<typeof RESTORE_OPTIONS>;

export const restoreCommand = defineCommand({
  name: 'restore',
  description: 'undo a clean run: removed rows back with their ids, merged keepers and child rows back (dry run unless --execute)',
  arguments: [new Argument('<run-id>', 'the run to undo (see lead-dedupe runs)')],
  options: RESTORE_OPTIONS,
  examples: [
    'lead-dedupe restore 7          # rehearse: what would come back, and any conflict',
    'lead-dedupe restore 7 --execute',
    'lead-dedupe restore 7 --map email=email_address --execute   # email was renamed since the clean',
  ],
  exitCodes: {
    [ExitCode.ok]: COMMON_EXIT_CODES[ExitCode.ok],
    [ExitCode.runtime]: 'runtime or database error, a conflict (nothing changed), or merged columns left alone (listed; --force finishes)',
    [ExitCode.usage]: COMMON_EXIT_CODES[ExitCode.usage],
    [ExitCode.lockHeld]: 'another clean or restore holds the table (the message names it)',
    [ExitCode.interrupted]: 'stopped by SIGINT/SIGTERM, nothing changed (--execute: the first signal lets it finish, a second rolls it back)',
  },
  run: runRestore,
});

async function runRestore(flags: RestoreFlags, [runIdText]: string[], { source }: RunContext): Promise<ExitCode> {
  const runId = parseWholeNumber(runIdText, 'the run id', WHOLE_RANGES.runId);
  // --map here renames archived columns; the settings must not read it as a key column map.
  const settings = resolveTableSettings({ ...flags, map: undefined });
  const columns = {
    renames: (flags.map ?? []).map((pair) => {
      const [from, to] = parseNameValue(pair, '--map', '<archived column>=<column now>, e.g. email=email_address');
      return { from, to };
    }),
    dropColumns: flags.dropColumn ?? [],
  };
  const schema = resolveArchiveSchema(flags, settings);
  // clean's grammar and defaults; every session of the restore starts with them (a database-level statement_timeout does not apply).
  const timeouts = {
    lockTimeoutMs: optionalDuration(flags.lockTimeout, source('--lock-timeout'), 1, CLEAN_DEFAULTS.lockTimeoutMs),
    statementTimeoutMs: optionalDuration(flags.statementTimeout, source('--statement-timeout'), 1, CLEAN_DEFAULTS.statementTimeoutMs),
  };
  const options = {
    runId,
    archiveSchema: schema,
    execute: flags.execute ?? false,
    force: flags.force ?? false,
    ...timeouts,
    commandLine: settings.commandLine,
    columns,
  };
  const result = await withDatabase(
    settings.target,
    (database) =>
      options.execute
        ? executeRestore(database, options, flags)
        : stoppable(database, 'nothing was changed', (db) => withSpinner('rehearsing the restore', flags, () => restoreRun(db, options))),
    timeouts,
  );
  const report = renderRestore(result, flags.format, renderContext(settings.target, flags));
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
    if (interrupt.now.aborted && signal !== null)
      throw new InterruptedError(`interrupted by ${signal}: the restore of run ${options.runId} was rolled back; nothing was changed`);
    throw error;
  } finally {
    interrupt.dispose();
  }
}
