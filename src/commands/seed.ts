import type { ActionRunner } from '../cli/program.js';
import { Command, Option } from 'commander';
import { addTableOptions, type TableFlags } from '../cli/common-options.js';
import { withSpinner, writeReport } from '../cli/output.js';
import { resolveTableSettings } from '../cli/settings.js';
import { withDatabase } from '../db/with-database.js';
import { ExitCode } from '../errors.js';
import { optionalWholeNumber, WHOLE_RANGES } from '../core/inputs/whole-number.js';
import { renderSeed } from '../render/render-seed.js';
import { seed } from '../seed/seed.js';
import { DEMO_ROWS, SEED_SCENARIOS, type SeedScenario } from '../seed/seed-plan.js';

interface SeedFlags extends TableFlags {
  rows?: string;
  scenario: SeedScenario;
  replace?: boolean;
  format: 'table' | 'json';
  quiet?: boolean;
}

export function seedCommand(run: ActionRunner): Command {
  const command = new Command('seed').description('create and fill a realistic leads table (and lead_activities) for trying the tool');
  addTableOptions(command);
  return command
    .option('--rows <n>', 'leads to generate', String(DEMO_ROWS))
    .addOption(new Option('--scenario <name>', 'production: the finding from production; webhook-race: identical race copies').choices(SEED_SCENARIOS).default('production'))
    .option('--replace', 'drop and recreate the tables if they exist')
    .addOption(new Option('--format <format>', 'report format').choices(['table', 'json']).default('table'))
    .option('--quiet', 'print nothing but errors')
    .action((flags: SeedFlags) => run(() => runSeed(flags)));
}

async function runSeed(flags: SeedFlags): Promise<ExitCode> {
  const rows = optionalWholeNumber(flags.rows, '--rows', WHOLE_RANGES.seedRows, DEMO_ROWS);
  const settings = resolveTableSettings(flags);
  const result = await withDatabase(settings.target, (database) =>
    withSpinner(`seeding ${rows} rows`, flags, () =>
      seed(database, { table: settings.table, rows, scenario: flags.scenario, replace: flags.replace ?? false }),
    ),
  );
  await writeReport(renderSeed(result, flags.format), flags);
  return ExitCode.ok;
}
