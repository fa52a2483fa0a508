import type { PlanFlags } from '../cli/clean-flags.js';
import { stoppable } from '../cli/interrupt.js';
import type { OutputFlags } from '../cli/options.js';
import { note, renderContext, withSpinner, writeReport } from '../cli/output.js';
import { writePlanFiles } from '../cli/plan-file.js';
import type { CleanOptions } from '../clean/types.js';
import { planClean, type CleanPlanWithChecks } from '../clean/preview.js';
import type { Database } from '../db/database.js';
import type { DatabaseTarget } from '../db/database-target.js';
import { ExitCode } from '../errors.js';
import { tableCommand, type CommandLineContext } from '../keys/key-command-line.js';
import { renderClean, type CleanFormat } from '../render/clean/index.js';
import { unindexedChildKeyLines } from '../render/clean/warnings.js';
import { formatCount } from '../render/common/format.js';

/** `clean` without --execute: the plan's report (its sample groups, its totals); changes nothing. */
export async function dryRunClean(
  database: Database,
  options: CleanOptions,
  planFlags: PlanFlags,
  flags: OutputFlags<CleanFormat>,
  target: DatabaseTarget,
  commandLine: CommandLineContext,
): Promise<ExitCode> {
  // with --plan-out/--plan-csv the report is counted from the plan written (one pass, the same snapshot)
  const writesPlan = planFlags.planOut !== undefined || planFlags.planCsv !== undefined;
  const plan = writesPlan
    ? await writePlan(database, options, planFlags, flags, commandLine)
    : await stoppable(database, 'nothing was changed', (db) => withSpinner('planning', flags, () => planClean(db, options)));
  for (const line of unindexedChildKeyLines(plan.unindexedChildKeys)) note(line, flags);
  await writeReport(renderClean({ kind: 'plan', plan }, flags.format, renderContext(target, flags)), flags);
  return ExitCode.ok;
}

/** --plan-out / --plan-csv beside the dry run's report. */
async function writePlan(
  database: Database,
  options: CleanOptions,
  planFlags: PlanFlags,
  flags: { quiet?: boolean },
  commandLine: CommandLineContext,
): Promise<CleanPlanWithChecks> {
  const written = await stoppable(database, 'nothing was changed', (db) =>
    withSpinner('planning and writing the plan', flags, () =>
      writePlanFiles(db, options, { plan: planFlags.planOut, csv: planFlags.planCsv, redact: planFlags.redact }),
    ),
  );
  const { totals, digest } = written.header;
  const files = [planFlags.planOut, planFlags.planCsv].filter((file) => file !== undefined).join(' and ');
  note(
    `plan: ${formatCount(totals.groups)} groups, ${formatCount(totals.rowsToRemove)} rows to remove, ${formatCount(totals.skippedGroups)} skipped, written to ${files}` +
      (planFlags.planOut === undefined
        ? ''
        : ` (${digest}); apply it with:\n  ${tableCommand(null, ['clean'], ['--plan', planFlags.planOut, '--execute'], commandLine)}`),
    flags,
  );
  return written.report;
}
