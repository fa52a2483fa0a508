import type { ActionRunner } from '../cli/program.js';
import { Command, Option } from 'commander';
import { addTableOptions, parseWholeNumber, type TableFlags } from '../cli/common-options.js';
import { withSpinner, writeReport } from '../cli/output.js';
import { resolveTableSettings } from '../cli/settings.js';
import { archiveSchema } from '../core/clean/clean-settings.js';
import { restoreRun } from '../core/clean/restore.js';
import { withDatabase } from '../db/with-database.js';
import { ExitCode } from '../errors.js';
import { renderCleanReport, type CleanFormat } from '../render/clean-render.js';

interface RestoreFlags extends TableFlags {
  execute?: boolean;
  force?: boolean;
  archiveSchema?: string;
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
    .addOption(new Option('--format <format>', 'report format').choices(['table', 'json']).default('table'))
    .option('--output <file>', 'write the report to a file instead of stdout')
    .option('--quiet', 'print nothing but errors')
    .action((runId: string, flags: RestoreFlags) => run(() => runRestore(runId, flags)));
}

async function runRestore(runIdText: string, flags: RestoreFlags): Promise<ExitCode> {
  const runId = parseWholeNumber(runIdText, 'run id', 0, 1);
  const settings = resolveTableSettings(flags);
  const schema = archiveSchema(flags.archiveSchema ?? stringSetting(settings.config.commands?.clean?.archiveSchema));
  const result = await withDatabase(settings.target, (database) =>
    withSpinner(flags.execute ? 'restoring' : 'rehearsing the restore', flags, () => restoreRun(database, { runId, archiveSchema: schema, execute: flags.execute ?? false, force: flags.force ?? false })),
  );
  await writeReport(renderCleanReport({ kind: 'restore', result }, flags.format), flags);
  // Restored, but columns the application changed were left alone: a person should look (the report lists them).
  const leftAlone = result.executed && !result.keeperConflicts.overwritten && result.keeperConflicts.total > 0;
  return leftAlone ? ExitCode.runtime : ExitCode.ok;
}

function stringSetting(value: unknown): string | undefined {
  return value === undefined ? undefined : String(value);
}
