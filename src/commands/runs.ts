import { COMMON_EXIT_CODES } from '../cli/exit-codes-help.js';
import { Option } from '@commander-js/extra-typings';
import { defineCommand, type RunContext } from '../cli/command-spec.js';
import type { FlagsOf } from '../cli/flags-of.js';
import { archiveOption, outputOptions, REPORT_FORMATS, connectionOptions } from '../cli/options.js';
import { writeReport, renderContext } from '../cli/output.js';
import { resolveArchiveSchema, resolveTableSettings } from '../cli/settings.js';
import { listRunsPage } from '../clean/runs/runs.js';
import { withDatabase } from '../db/with-database.js';
import { ExitCode } from '../errors.js';
import { optionalWholeNumber, WHOLE_RANGES } from '../cli/parse/whole-number.js';
import { renderRuns } from '../render/runs/index.js';

const RUNS_OPTIONS = [
  ...connectionOptions(),
  ...outputOptions(REPORT_FORMATS),
  archiveOption('schema of the archive (default: lead_dedupe)'),
  new Option('--limit <n>', 'runs to list').default('20'),
] as const;

type RunsFlags = FlagsOf<typeof RUNS_OPTIONS>;

export const runsCommand = defineCommand({
  name: 'runs',
  description: 'list past clean runs, newest first',
  options: RUNS_OPTIONS,
  examples: ['lead-dedupe runs', 'lead-dedupe runs --limit 1 --format json   # the latest run'],
  exitCodes: COMMON_EXIT_CODES,
  run: runRuns,
});

/** Every table's runs, unless --table (or the config's table) names one. */
async function runRuns(flags: RunsFlags, _args: string[], { source }: RunContext): Promise<ExitCode> {
  const limit = optionalWholeNumber(flags.limit, source('--limit'), WHOLE_RANGES.limit, 20);
  const settings = resolveTableSettings(flags);
  const schema = resolveArchiveSchema(flags, settings);
  const explicitTable = flags.table ?? settings.config.table;
  const page = await withDatabase(settings.target, (database) => listRunsPage(database, { archiveSchema: schema, table: explicitTable ?? null, limit }));
  await writeReport(renderRuns(page, flags.format, renderContext(settings.target, flags)), flags);
  return ExitCode.ok;
}
