import { COMMON_EXIT_CODES } from '../cli/exit-codes-help.js';
import { Option } from '@commander-js/extra-typings';
import { defineCommand, type RunContext } from '../cli/command-spec.js';
import type { FlagsOf } from '../cli/flags-of.js';
import { keyOptions, oneKeyFlag, outputOptions, tableOptions } from '../cli/options.js';
import { note, renderContext, writeReport } from '../cli/output.js';
import { resolveKeySettings, resolveTableSettings } from '../cli/settings.js';
import {
  cleanBatchOptions,
  cleanPlanOptions,
  cleanPolicyOptions,
  planCleanSettings,
  resolveCleanSettings,
  resolvePlanFlags,
  type PlanFlags,
} from '../cli/clean-flags.js';
import { loadOneKey } from '../core/lead-table.js';
import { requireAgeOrder } from '../clean/keeper-order.js';
import { withDatabase } from '../db/with-database.js';
import { ExitCode, UsageError } from '../errors.js';
import { dryRunClean } from './clean-dry-run.js';
import { executeClean } from './clean-execute.js';
import { checkPlanReport, withPlan } from './clean-plan-file.js';
import { cleanScript } from '../clean/print-script.js';
import { renderCleanScript } from '../render/clean/sql.js';

const CLEAN_OPTIONS = [
  ...tableOptions(),
  ...keyOptions('the one key to clean: a preset (e.g. device-phone) or columns a,b,c'),
  ...cleanPolicyOptions(),
  new Option('--execute', 'apply the clean-up (without it: print the plan, change nothing)'),
  new Option('--print-sql', "print the statements of the run's staging and first batch, step by step, and change nothing"),
  ...cleanBatchOptions(),
  new Option('--export-removed <file.csv>', 'with --execute: also write the removed rows to a CSV file'),
  ...cleanPlanOptions(),
  ...outputOptions(['table', 'json']),
] as const;

type CleanFlags = FlagsOf<typeof CLEAN_OPTIONS>;

export const cleanCommand = defineCommand({
  name: 'clean',
  description: 'remove or merge duplicates under one key, in archived batches (dry run unless --execute)',
  options: CLEAN_OPTIONS,
  examples: [
    'lead-dedupe clean --key device-phone   # the plan: what would be removed and merged',
    'lead-dedupe clean --key device-phone --execute --export-removed removed.csv',
    'lead-dedupe clean --key device-phone --mode delete --keep newest --batch-size 500 --pause 200ms --execute',
    'lead-dedupe clean --key device-phone --plan-out plan.jsonl --plan-csv plan.csv   # review, edit, sign off…',
    'lead-dedupe clean --plan plan.jsonl --execute   # …then apply exactly that plan',
    'lead-dedupe clean --key device-phone --print-sql   # every statement a batch sends, in order',
  ],
  configSettings: ['mergeRules'],
  exitCodes: {
    [ExitCode.ok]: COMMON_EXIT_CODES[ExitCode.ok],
    [ExitCode.runtime]: 'runtime or database error, or a run that stopped early (committed batches stay archived: restore undoes them)',
    [ExitCode.usage]: COMMON_EXIT_CODES[ExitCode.usage],
    [ExitCode.lockHeld]: 'another clean or restore holds the table (the message names it)',
    [ExitCode.interrupted]: 'stopped by SIGINT/SIGTERM after the batch in flight; the run is marked interrupted',
  },
  run: runClean,
});

/**
 * Checks every flag before the database opens, then takes one of four paths: with --plan, a check of the plan file
 * (clean-plan-file.ts) or, with --execute, its application; without, the dry run (clean-dry-run.ts) or, with
 * --execute, the clean-up itself (clean-execute.ts); --print-sql prints the run's script instead (clean/print-script.ts).
 */
async function runClean(flags: CleanFlags, _args: string[], { source }: RunContext): Promise<ExitCode> {
  const planFlags = resolvePlanFlags(flags, source);
  const keyText = planFlags.plan === undefined || (flags.key ?? []).length > 0 ? oneKeyFlag(flags, 'clean') : undefined;
  if (flags.exportRemoved !== undefined && !flags.execute) throw new UsageError('--export-removed needs --execute (a dry run removes nothing)');
  if (flags.printSql) refusePrintSqlWith(flags, planFlags);
  const settings = resolveTableSettings(flags);
  const keySettings = resolveKeySettings(flags, settings);
  const cleanSettings = resolveCleanSettings(flags, settings.config.commands?.clean?.mergeRules, source);
  // Every session starts under --lock-timeout, whatever the database or role sets. --statement-timeout bounds what a batch
  // holds, so each batch transaction sets it; the read-only staging and the dry run lock no rows and, like scan, run
  // without one (at 10M rows the dry run's one statement took longer than the 60 s default).
  const timeouts = { lockTimeoutMs: cleanSettings.lockTimeoutMs, statementTimeoutMs: 0 };
  return withDatabase(
    settings.target,
    async (database) => {
      if (planFlags.plan !== undefined) {
        const request = { table: flags.table, idColumn: flags.idColumn, keyText, keySettings, archiveSchema: cleanSettings.archiveSchema };
        return withPlan(database, planFlags, request, flags, (plan, key) => {
          const options = { key, ...planCleanSettings(plan.header, flags, cleanSettings, source) };
          if (flags.execute) return executeClean(database, options, flags, renderContext(settings.target, flags), settings.commandLine, plan);
          return checkPlanReport(database, options, plan, flags, renderContext(settings.target, flags));
        });
      }
      const key = await loadOneKey(database.db, { ...settings, archiveSchema: cleanSettings.archiveSchema }, keySettings, keyText!, 'clean');
      const options = { key, ...cleanSettings };
      // Without a created column, "oldest" and "newest" (keeper and merge donors) mean "by id": refused when the id's
      // order says nothing about age (a uuid), said when it does (a serial).
      requireAgeOrder(options, key.table);
      const byAge = options.keep !== 'most-complete' || options.mode === 'merge';
      if (key.table.createdFallback !== undefined && byAge) {
        note(`lead-dedupe: ${key.table.createdFallback}: oldest/newest by ${key.table.idColumn} (name a date/time column with --created-column)`, flags);
      }
      if (flags.printSql) {
        await writeReport(renderCleanScript(await cleanScript(database, options)), flags);
        return ExitCode.ok;
      }
      if (!flags.execute) return dryRunClean(database, options, planFlags, flags, settings.target, settings.commandLine);
      return executeClean(database, options, flags, renderContext(settings.target, flags), settings.commandLine);
    },
    timeouts,
  );
}

/** --print-sql prints a plain run's statements and changes nothing: with a flag that runs, applies or writes something it would mean two things. */
function refusePrintSqlWith(flags: CleanFlags, planFlags: PlanFlags): void {
  const other = [
    flags.execute ? '--execute' : null,
    planFlags.plan !== undefined ? '--plan' : null,
    planFlags.planOut !== undefined ? '--plan-out' : null,
    planFlags.planCsv !== undefined ? '--plan-csv' : null,
  ].find((flag) => flag !== null);
  if (other !== undefined) throw new UsageError(`--print-sql and ${other}: choose one (--print-sql prints the statements and changes nothing)`);
}
