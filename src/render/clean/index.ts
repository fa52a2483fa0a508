import type { CleanPlanWithChecks } from '../../clean/preview.js';
import type { CleanResult } from '../../clean/types.js';
import { renderAs, type RenderContext } from '../common/render-as.js';
import { SAME_SHELL, type CommandLineContext } from '../../keys/key-command-line.js';
import { renderCleanPlanTable } from './plan-table.js';
import { renderCleanResultTable } from './result-table.js';
import { renderPlanCheckTable } from './plan-check-table.js';
import type { PlanCheck } from '../../clean/plan-file/check-plan.js';

export type CleanFormat = 'table' | 'json';

/** A dry run prints the plan; --execute prints the result (also after a stop). */
export type CleanReport = { kind: 'plan'; plan: CleanPlanWithChecks } | { kind: 'plan-check'; check: PlanCheck } | { kind: 'result'; result: CleanResult };

/** `commandLine`: what the suggested restore repeats to reach the same database. */
export function renderClean(report: CleanReport, format: CleanFormat, context: RenderContext, commandLine: CommandLineContext = SAME_SHELL): string {
  if (report.kind === 'plan') {
    // dryRun: true lets a script tell the plan from a result without looking at its fields.
    return renderAs(format, { table: () => renderCleanPlanTable(report.plan, context.width), json: () => ({ dryRun: true, ...report.plan }) }, context);
  }
  if (report.kind === 'plan-check') {
    return renderAs(format, { table: () => renderPlanCheckTable(report.check, context.width), json: () => ({ dryRun: true, ...report.check }) }, context);
  }
  return renderAs(format, { table: () => renderCleanResultTable(report.result, context.width, commandLine), json: () => report.result }, context);
}
