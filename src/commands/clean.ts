import { Option } from 'commander';
import type { CommandSpec, RunContext } from '../cli/command-spec.js';
import {
  archiveOption,
  keyOptions,
  oneKeyFlag,
  outputOptions,
  tableOptions,
  timeoutOptions,
  type KeyFlags,
  type OutputFlags,
  type TableFlags,
} from '../cli/options.js';
import { stoppable, watchSignals } from '../cli/interrupt.js';
import { note, withSpinner, writeReport, renderContext } from '../cli/output.js';
import { resolveKeySettings, resolveTableSettings } from '../cli/settings.js';
import { applyClean } from '../core/clean/apply-clean.js';
import { resolveCleanSettings, type CleanFlagValues } from '../cli/clean-flags.js';
import type { CleanOptions, CleanResult } from '../core/clean/clean-types.js';
import { removedColumns, streamRemovedRows } from '../core/clean/export-removed.js';
import { planClean, type CleanPlanWithChecks } from '../core/clean/plan-clean.js';
import { loadOneKey } from '../core/lead-table.js';
import { abortable } from '../db/abortable.js';
import type { Database } from '../db/database.js';
import { firstLineOf } from '../db/database-error.js';
import { withDatabase } from '../db/with-database.js';
import { ExitCode, FileWriteError, UsageError } from '../errors.js';
import { renderClean, type CleanFormat } from '../render/clean/index.js';
import type { RenderContext } from '../render/common/render-as.js';
import { restoreCommandFor, type CommandLineContext } from '../keys/key-command-line.js';
import { cleanProgress } from '../cli/clean-progress.js';
import { openCsvFile } from '../cli/csv-file.js';
import { formatCount } from '../render/common/format.js';
import { unindexedChildKeyLines } from '../render/clean/warnings.js';
import { planCleanSettings, resolvePlanFlags, type PlanFlags } from '../cli/clean-flags.js';
import { writePlanFiles } from '../cli/plan-file.js';
import { checkPlan } from '../core/clean/plan/check-plan.js';
import { requirePlanAge, resolvePlanKey, type PlanTargetRequest } from '../core/clean/plan/plan-match.js';
import { readDatabaseIdentity } from '../core/clean/plan/plan-identity.js';
import { openPlan, type OpenedPlan } from '../core/clean/plan/read-plan.js';
import type { ResolvedKey } from '../keys/key-definition.js';

interface CleanFlags extends TableFlags, KeyFlags, CleanFlagValues, OutputFlags<CleanFormat> {
  execute?: boolean;
  exportRemoved?: string;
}

export const cleanCommand: CommandSpec<CleanFlags> = {
  name: 'clean',
  description: 'remove or merge duplicates under one key, in archived batches (dry run unless --execute)',
  options: [
    ...tableOptions(),
    ...keyOptions('the one key to clean: a preset (e.g. device-phone) or columns a,b,c'),
    new Option('--keep <policy>', 'row kept per group: oldest, newest, most-complete (default: oldest)').choices(['oldest', 'newest', 'most-complete']),
    new Option('--mode <mode>', "merge: fill the keeper's empty columns first; delete: keep it as is (default: merge)").choices(['merge', 'delete']),
    new Option('--merge-rule <column=rule>', 'donor per column: newest, oldest, keeper (never fill), longest (repeatable)').argParser(
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    ),
    new Option('--execute', 'apply the clean-up (without it: print the plan, change nothing)'),
    new Option('--batch-size <groups>', 'groups per transaction (default: 1000)'),
    new Option('--batch-rows <rows>', 'rows per transaction, the row locks it holds; a larger group is removed in chunks (default: 10000)'),
    new Option('--max-groups <n>', 'clean at most this many groups in this run'),
    new Option('--pause <duration>', 'pause between batches, e.g. 200ms (default: 0)'),
    ...timeoutOptions(),
    new Option('--retries <n>', 'retries of a timed-out batch, with backoff, before the run stops (default: 3)'),
    archiveOption('schema of the archive and run log, created on first use (default: lead_dedupe)'),
    new Option('--export-removed <file.csv>', 'with --execute: also write the removed rows to a CSV file'),
    new Option('--sample <n>', 'groups shown in the dry run (default: 5)'),
    new Option('--plan-out <file>', 'dry run: also write the complete plan (JSON Lines) to review, edit and apply with --plan'),
    new Option('--plan-csv <file.csv>', 'dry run: also write one CSV line per planned row (group, key, id, keep/remove, merged columns)'),
    new Option('--plan <file>', 'check a plan written by --plan-out against the data now; with --execute apply it, skipping groups changed since'),
    new Option('--max-plan-age <duration>', 'with --plan: refuse a plan older than this, e.g. 36h or 14d (default: 7d)'),
    ...outputOptions(['table', 'json']),
  ],
  examples: [
    'lead-dedupe clean --key device-phone   # the plan: what would be removed and merged',
    'lead-dedupe clean --key device-phone --execute --export-removed removed.csv',
    'lead-dedupe clean --key device-phone --mode delete --keep newest --batch-size 500 --pause 200ms --execute',
    'lead-dedupe clean --key device-phone --plan-out plan.jsonl --plan-csv plan.csv   # review, edit, sign off…',
    'lead-dedupe clean --plan plan.jsonl --execute   # …then apply exactly that plan',
  ],
  configSettings: ['mergeRules'],
  run: runClean,
};

async function runClean(flags: CleanFlags, _args: string[], { source }: RunContext): Promise<ExitCode> {
  const planFlags = resolvePlanFlags(flags, source);
  const keyText = planFlags.plan === undefined || (flags.key ?? []).length > 0 ? oneKeyFlag(flags, 'clean') : undefined;
  if (flags.exportRemoved !== undefined && !flags.execute) throw new UsageError('--export-removed needs --execute (a dry run removes nothing)');
  const settings = resolveTableSettings(flags);
  const keySettings = resolveKeySettings(flags, settings);
  const cleanSettings = resolveCleanSettings(flags, settings.config.commands?.clean?.mergeRules, source);
  // Every session starts under --lock-timeout and --statement-timeout (the staging too), whatever the database or role sets.
  const timeouts = { lockTimeoutMs: cleanSettings.lockTimeoutMs, statementTimeoutMs: cleanSettings.statementTimeoutMs };
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
      // Without a created column, "oldest" and "newest" (keeper and merge donors) silently mean "by id": say so.
      const byAge = options.keep !== 'most-complete' || options.mode === 'merge';
      if (key.table.createdFallback !== undefined && byAge) {
        note(`lead-dedupe: ${key.table.createdFallback}: oldest/newest by ${key.table.idColumn} (name a date/time column with --created-column)`, flags);
      }
      if (!flags.execute) {
        // with --plan-out/--plan-csv the report is counted from the plan written (one pass, the same snapshot)
        const writesPlan = planFlags.planOut !== undefined || planFlags.planCsv !== undefined;
        const plan = writesPlan
          ? await writePlan(database, options, planFlags, flags)
          : await stoppable(database, 'nothing was changed', (db) => withSpinner('planning', flags, () => planClean(db, options)));
        for (const line of unindexedChildKeyLines(plan.unindexedChildKeys)) note(line, flags);
        await writeReport(renderClean({ kind: 'plan', plan }, flags.format, renderContext(settings.target, flags)), flags);
        return ExitCode.ok;
      }
      return executeClean(database, options, flags, renderContext(settings.target, flags), settings.commandLine);
    },
    timeouts,
  );
}

/**
 * The first SIGINT/SIGTERM stops after the batch in flight, the second rolls
 * it back at once (its statement cancelled); either way the run is marked
 * interrupted, the summary printed, the exit code 130. Once batches have
 * committed, a file that cannot be written is reported with the run id and
 * how to undo it, after the summary, with exit 1 (never 2: data changed).
 */
async function executeClean(
  database: Database,
  options: CleanOptions,
  flags: CleanFlags,
  context: RenderContext,
  commandLine: CommandLineContext,
  plan: OpenedPlan | null = null,
): Promise<ExitCode> {
  const interrupt = watchSignals({
    first: () => note('stopping after the current batch… (again: roll it back and stop now)', flags),
    second: () => {
      note('rolling back the batch in flight…', flags);
      void database.cancel?.();
    },
  });
  try {
    const progress = await cleanProgress(flags);
    let result: CleanResult;
    try {
      result = await applyClean(
        database,
        options,
        {
          commandLine,
          signal: interrupt.stop,
          cancel: interrupt.now,
          onProgress: (p) => progress.update(p),
          onUnindexedChildKeys: (keys) => {
            for (const line of unindexedChildKeyLines(keys)) note(line, flags);
          },
        },
        plan,
      );
    } finally {
      progress.stop();
    }
    const failures: string[] = [];
    let writeFailed = false;
    if (flags.exportRemoved !== undefined) {
      // Still written after a first signal (the rows removed so far); a second one skips it.
      const failure = await exportRemoved({ ...database, db: abortable(database.db, interrupt.now) }, options, result, flags.exportRemoved, flags);
      if (failure !== null && interrupt.now.aborted) failures.push(`--export-removed ${flags.exportRemoved} was not written (interrupted)`);
      else if (failure !== null) failures.push(failure);
      writeFailed = failure !== null && !interrupt.now.aborted;
    }
    const report = renderClean({ kind: 'result', result }, flags.format, context, commandLine);
    try {
      await writeReport(report, flags);
    } catch (error) {
      failures.push(firstLineOf(error));
      writeFailed = true;
      // the summary is what says what changed and how to undo it: stdout, then
      if (!flags.quiet) process.stdout.write(report);
    }
    if (result.stoppedBecause !== null) note(`lead-dedupe: ${result.stoppedBecause}`, {});
    const changed = result.rowsRemoved > 0 || result.rowsMerged > 0;
    const done = changed
      ? `clean run ${result.runId} removed ${formatCount(result.rowsRemoved)} rows (undo with: ${restoreCommandFor(result.runId, result.archiveSchema, true, commandLine)})`
      : `clean run ${result.runId} changed nothing`;
    for (const failure of failures) note(`lead-dedupe: ${done}, but ${failure}`, {});
    if (writeFailed) return ExitCode.runtime;
    if (result.status === 'interrupted') return ExitCode.interrupted;
    return result.status === 'done' ? ExitCode.ok : ExitCode.runtime;
  } finally {
    interrupt.dispose();
  }
}

/** Opens the plan, checks its age and that it is for this database, table and key, and always closes it. */
async function withPlan(
  database: Database,
  planFlags: PlanFlags,
  request: Omit<PlanTargetRequest, 'keyText'> & { keyText: string | undefined },
  flags: CleanFlags,
  run: (plan: OpenedPlan, key: ResolvedKey) => Promise<ExitCode>,
): Promise<ExitCode> {
  const plan = await openPlan(planFlags.plan!);
  try {
    requirePlanAge(plan, planFlags.maxPlanAgeMs, planFlags.maxPlanAge);
    const key = await resolvePlanKey(database.db, plan, await readDatabaseIdentity(database.db), request);
    if (key.table.createdFallback !== undefined) note(`lead-dedupe: ${key.table.createdFallback}: oldest/newest by ${key.table.idColumn}`, flags);
    return await run(plan, key);
  } finally {
    plan.close();
  }
}

/** `clean --plan <file>` without --execute: how much of the plan still holds; changes nothing. */
async function checkPlanReport(database: Database, options: CleanOptions, plan: OpenedPlan, flags: CleanFlags, context: RenderContext): Promise<ExitCode> {
  const check = await stoppable(database, 'nothing was changed', () => withSpinner('checking the plan', flags, () => checkPlan(database, options, plan)));
  await writeReport(renderClean({ kind: 'plan-check', check }, flags.format, context), flags);
  return ExitCode.ok;
}

/** --plan-out / --plan-csv beside the dry run's report. */
async function writePlan(database: Database, options: CleanOptions, planFlags: PlanFlags, flags: CleanFlags): Promise<CleanPlanWithChecks> {
  const written = await stoppable(database, 'nothing was changed', (db) =>
    withSpinner('planning and writing the plan', flags, () => writePlanFiles(db, options, { plan: planFlags.planOut, csv: planFlags.planCsv })),
  );
  const { totals, digest } = written.header;
  const files = [planFlags.planOut, planFlags.planCsv].filter((file) => file !== undefined).join(' and ');
  note(
    `plan: ${formatCount(totals.groups)} groups, ${formatCount(totals.rowsToRemove)} rows to remove, ${formatCount(totals.skippedGroups)} skipped, written to ${files}` +
      (planFlags.planOut === undefined ? '' : ` (${digest}); apply with: lead-dedupe clean --plan ${planFlags.planOut} --execute`),
    flags,
  );
  return written.report;
}

/** --export-removed: the run's removed rows from the archive; null when written, else why not. */
async function exportRemoved(database: Database, options: CleanOptions, result: CleanResult, path: string, flags: CleanFlags): Promise<string | null> {
  try {
    const csv = await openCsvFile(path, '--export-removed', removedColumns(options.key.table));
    let written: number;
    try {
      written = await streamRemovedRows(database, options.archiveSchema, result.runId, options.key.table, (rows) => csv.write(rows));
      await csv.close();
    } catch (error) {
      throw await csv.discard(error);
    }
    note(`export: ${formatCount(written)} removed rows written to ${path}`, flags);
    return null;
  } catch (error) {
    return error instanceof FileWriteError ? error.message : `cannot write --export-removed ${path}: ${firstLineOf(error)}`;
  }
}
