import type { ActionRunner } from '../cli/program.js';
import { Command } from 'commander';
import { addOutputOptions, addTableOptions, type OutputFlags, type TableFlags } from '../cli/common-options.js';
import { writeReport } from '../cli/output.js';
import { resolveTableSettings } from '../cli/settings.js';
import { archiveSchema } from '../core/clean/clean-settings.js';
import { listRuns } from '../core/clean/runs.js';
import { withDatabase } from '../db/with-database.js';
import { ExitCode } from '../errors.js';
import { optionalWholeNumber, WHOLE_RANGES } from '../core/inputs/whole-number.js';
import { renderRuns } from '../render/runs-render.js';

interface RunsFlags extends TableFlags, OutputFlags {
  archiveSchema?: string;
  limit?: string;
}

export function runsCommand(run: ActionRunner): Command {
  const command = new Command('runs').description('list past clean runs, newest first');
  addTableOptions(command);
  addOutputOptions(command);
  return command
    .option('--archive-schema <name>', 'schema of the archive (default: lead_dedupe)')
    .option('--limit <n>', 'runs to list', '20')
    .action((flags: RunsFlags) => run(() => runRuns(flags)));
}

/** Every table's runs, unless --table (or the config's table) names one. */
async function runRuns(flags: RunsFlags): Promise<ExitCode> {
  const limit = optionalWholeNumber(flags.limit, '--limit', WHOLE_RANGES.limit, 20);
  const settings = resolveTableSettings(flags);
  const configured = settings.config.commands?.clean?.archiveSchema;
  const schema = archiveSchema(flags.archiveSchema ?? (configured === undefined ? undefined : String(configured)));
  const explicitTable = flags.table ?? settings.config.table;
  const runs = await withDatabase(settings.target, (database) => listRuns(database, { archiveSchema: schema, table: explicitTable ?? null, limit }));
  await writeReport(renderRuns(runs, flags.format), flags);
  return ExitCode.ok;
}
