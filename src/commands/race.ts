import { COMMON_EXIT_CODES } from '../cli/exit-codes-help.js';
import { Option } from '@commander-js/extra-typings';
import { defineCommand, type RunContext } from '../cli/command-spec.js';
import type { FlagsOf } from '../cli/flags-of.js';
import { archiveOption, keyOptions, oneKeyFlag, outputOptions, tableOptions } from '../cli/options.js';
import { note, renderContext, writeReport } from '../cli/output.js';
import { optionalDuration } from '../cli/parse/duration.js';
import { optionalWholeNumber } from '../cli/parse/whole-number.js';
import { resolveArchiveSchema, resolveKeySettings, resolveTableSettings } from '../cli/settings.js';
import { watchSignals } from '../cli/interrupt.js';
import { commaList, optionalCommaList } from '../cli/parse/comma-list.js';
import { loadOneKey } from '../core/lead-table.js';
import { race, RACE_LIMITS } from '../core/race/race.js';
import { withDatabase } from '../db/with-database.js';
import { ExitCode, InterruptedError } from '../errors.js';
import { renderRace } from '../render/race/index.js';
import { ON_DUPLICATE } from '../sql/upsert-plan.js';

const DEFAULT_TIME_LIMIT_MS = 60_000;

const RACE_OPTIONS = [
  ...tableOptions(),
  ...keyOptions('the key of the fix: a preset (device-phone, …) or columns a,b,c'),
  new Option('--on-duplicate <action>', 'the policy the generated statement uses, as in sql upsert').choices(ON_DUPLICATE).makeOptionMandatory(),
  new Option('--insert-columns <a,b>', 'columns each call inserts, as in sql upsert'),
  new Option('--update-columns <a,b>', 'as in sql upsert (fill, overwrite, newer)'),
  new Option('--touch <a,b>', 'as in sql upsert (touch)'),
  new Option('--newer-column <column>', 'as in sql upsert (newer)'),
  new Option('--retry-on-other-index', 'as in sql upsert: race the statement although another unique index can reject a row (its 23505s then show as errors)'),
  new Option('--check-columns <a,b>', "the columns the application's check selects by").default('device_id,user_id,phone,niche'),
  new Option('--calls <n>', `concurrent identical calls per round, one connection each (at most ${RACE_LIMITS.calls})`).default('50'),
  new Option('--rounds <n>', `rounds per path (at most ${RACE_LIMITS.rounds})`).default('5'),
  new Option('--time-limit <duration>', 'no round starts after this, e.g. 30s (default: 60s)'),
  archiveOption("schema of the scratch table, created if missing (default: lead_dedupe, the tool's own)"),
  ...outputOptions(['table', 'json']),
] as const;

type RaceFlags = FlagsOf<typeof RACE_OPTIONS>;

export const raceCommand = defineCommand({
  name: 'race',
  description:
    "prove the fix before deploying it: fire concurrent copies of one lead through the webhook's check-then-insert and through the sql upsert statement, on a scratch copy of the table (created in the tool's schema, dropped afterwards); exit 3 if the statement made a duplicate",
  options: RACE_OPTIONS,
  examples: [
    'lead-dedupe race --key device-user-phone-niche --on-duplicate skip',
    'lead-dedupe race --key device-phone --on-duplicate skip --calls 100 --rounds 20',
  ],
  exitCodes: {
    ...COMMON_EXIT_CODES,
    [ExitCode.duplicatesFound]: 'the generated statement let duplicates in (not proven)',
    [ExitCode.interrupted]: 'stopped by SIGINT/SIGTERM; the scratch table was dropped',
  },
  run: runRace,
});

async function runRace(flags: RaceFlags, _args: string[], { source }: RunContext): Promise<ExitCode> {
  const calls = optionalWholeNumber(flags.calls, source('--calls'), { min: 2, max: RACE_LIMITS.calls }, 50);
  const rounds = optionalWholeNumber(flags.rounds, source('--rounds'), { min: 1, max: RACE_LIMITS.rounds }, 5);
  const timeLimitMs = optionalDuration(flags.timeLimit, source('--time-limit'), 1000, DEFAULT_TIME_LIMIT_MS);
  const keyText = oneKeyFlag(flags, 'race');
  const settings = resolveTableSettings(flags);
  const keySettings = resolveKeySettings(flags, settings);
  const schema = resolveArchiveSchema(flags, settings);
  note(`race: creates ${schema}.race_<random> (a copy of the table's shape), races on it and drops it; the table itself is only read`, flags);
  const interrupt = watchSignals({});
  try {
    const report = await withDatabase(
      settings.target,
      async (database) => {
        const key = await loadOneKey(database.db, settings, keySettings, keyText, 'race');
        return race(database, {
          key,
          checkColumns: commaList(flags.checkColumns),
          onDuplicate: flags.onDuplicate,
          insertColumns: optionalCommaList(flags.insertColumns),
          policy: {
            updateColumns: optionalCommaList(flags.updateColumns),
            touchColumns: optionalCommaList(flags.touch),
            newerColumn: flags.newerColumn,
            retryOnOtherIndex: flags.retryOnOtherIndex ?? false,
          },
          calls,
          rounds,
          timeLimitMs,
          schema,
          stop: interrupt.stop,
          commandLine: settings.commandLine,
        });
      },
      // one connection per call and one for the set-up; every statement bounded by the time limit
      { connections: calls + 1, statementTimeoutMs: timeLimitMs },
    );
    const signal = interrupt.received();
    if (signal !== null) throw new InterruptedError(`interrupted by ${signal}; the scratch table was dropped`);
    await writeReport(renderRace(report, flags.format, renderContext(settings.target, flags)), flags);
    if (report.proven) return ExitCode.ok;
    const statement = report.paths.find((path) => path.path === 'generated statement');
    return statement !== undefined && statement.duplicates > 0 ? ExitCode.duplicatesFound : ExitCode.runtime;
  } finally {
    interrupt.dispose();
  }
}
