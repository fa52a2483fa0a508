import { COMMON_EXIT_CODES } from '../cli/exit-codes-help.js';
import { formatCount } from '../render/common/format.js';
import { Option } from '@commander-js/extra-typings';
import { defineCommand, type RunContext } from '../cli/command-spec.js';
import type { FlagsOf } from '../cli/flags-of.js';
import { quietOption, connectionOptions } from '../cli/options.js';
import { withSpinner, writeReport, renderContext } from '../cli/output.js';
import { resolveTableSettings } from '../cli/settings.js';
import { withDatabase } from '../db/with-database.js';
import { stoppable } from '../cli/interrupt.js';
import { ExitCode } from '../errors.js';
import { optionalWholeNumber, WHOLE_RANGES } from '../cli/parse/whole-number.js';
import { renderSeed } from '../render/seed/index.js';
import { seed } from '../seed/seed.js';
import { DEMO_ROWS, SEED_SCENARIOS } from '../seed/seed-plan.js';

const SEED_OPTIONS = [
  ...connectionOptions(),
  new Option('--rows <n>', 'leads to generate').default(String(DEMO_ROWS)),
  new Option(
    '--scenario <name>',
    'production: the finding from production; webhook-race: identical race copies; near-duplicates: production plus resubmissions with typos, labelled (true_person_id)',
  )
    .choices(SEED_SCENARIOS)
    .default('production'),
  new Option('--random-state <n>', 'vary every draw: another table of the same shape').default('0'),
  new Option('--replace', 'drop and recreate the tables if they exist (only tables seed created)'),
  new Option('--format <format>', 'report format').choices(['table', 'json']).default('table'),
  quietOption(),
] as const;

type SeedFlags = FlagsOf<typeof SEED_OPTIONS>;

export const seedCommand = defineCommand({
  name: 'seed',
  description: 'create and fill a realistic leads table (and lead_activities) for trying the tool',
  options: SEED_OPTIONS,
  examples: ['lead-dedupe seed --database pglite:./try --rows 100000', 'lead-dedupe seed --database postgres://postgres@127.0.0.1/scratch --replace'],
  exitCodes: COMMON_EXIT_CODES,
  run: runSeed,
});

async function runSeed(flags: SeedFlags, _args: string[], { source }: RunContext): Promise<ExitCode> {
  const rows = optionalWholeNumber(flags.rows, source('--rows'), WHOLE_RANGES.seedRows, DEMO_ROWS);
  const randomState = optionalWholeNumber(flags.randomState, source('--random-state'), WHOLE_RANGES.randomState, 0);
  const settings = resolveTableSettings(flags);
  const result = await withDatabase(
    settings.target,
    (opened) =>
      // one transaction: a signal rolls all of it back
      stoppable(opened, 'nothing was written', (database) =>
        withSpinner(`seeding ${formatCount(rows)} rows`, flags, () =>
          seed(database, { table: settings.table, rows, scenario: flags.scenario, randomState, replace: flags.replace ?? false }),
        ),
      ),
    { createPglite: true },
  );
  await writeReport(renderSeed(result, flags.format, renderContext(settings.target)), flags);
  return ExitCode.ok;
}
