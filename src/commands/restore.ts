import type { ActionRunner } from '../cli/program.js';
import { Command, Option } from 'commander';
import { addTableOptions, type TableFlags } from '../cli/common-options.js';
import { withSpinner, writeReport } from '../cli/output.js';
import { resolveTableSettings } from '../cli/settings.js';
import { archiveSchema, CLEAN_DEFAULTS } from '../core/clean/clean-settings.js';
import { optionalDuration } from '../core/inputs/duration.js';
import { restoreRun } from '../core/clean/restore.js';
import { withDatabase } from '../db/with-database.js';
import { ExitCode } from '../errors.js';
import { parseWholeNumber, WHOLE_RANGES } from '../core/inputs/whole-number.js';
import { renderCleanReport, type CleanFormat } from '../render/clean-render.js';

interface RestoreFlags extends TableFlags {
  execute?: boolean;
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
  const result = await withDatabase(
    settings.target,
    (database) =>
      withSpinner(flags.execute ? 'restoring' : 'rehearsing the restore', flags, () => restoreRun(database, { runId, archiveSchema: schema, execute: flags.execute ?? false, ...timeouts })),
    timeouts,
  );
  await writeReport(renderCleanReport({ kind: 'restore', result }, flags.format), flags);
  return ExitCode.ok;
}

function stringSetting(value: unknown): string | undefined {
  return value === undefined ? undefined : String(value);
}
