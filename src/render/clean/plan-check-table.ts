import type { PlanCheck } from '../../clean/plan-file/check-plan.js';
import type { PlanApplySummary } from '../../clean/types.js';
import { formatCount, formatDuration, plainTable, type PlainTable } from '../common/format.js';

/** `clean --plan <file>` without --execute: how much of the plan still holds. */
export function renderPlanCheckTable(check: PlanCheck, width: number): string {
  const lines = [
    `Plan check: ${check.file} for ${check.table} by ${check.key} (keep ${check.keep}, mode ${check.mode}), checked in ${formatDuration(check.durationMs)}`,
    '',
  ];
  const summary = plainTable({}, width);
  planRows(summary, check);
  summary.push(['groups as planned (--execute applies them)', formatCount(check.unchanged)]);
  summary.push(['rows --execute would remove', formatCount(check.rowsToRemove)]);
  staleRows(summary, check);
  lines.push(summary.toString());
  if (check.staleSample.length > 0) {
    lines.push(
      '',
      `Stale groups (--execute skips them)${check.staleChanged + check.staleGone > check.staleSample.length ? `, first ${check.staleSample.length}` : ''}:`,
    );
    for (const group of check.staleSample) lines.push(`  ${group.groupId}: ${group.reason}`);
  }
  newRowLines(lines, check);
  lines.push('', 'Nothing was changed. Add --execute to apply the plan.');
  return `${lines.join('\n')}\n`;
}

/** Which plan, and whether it was edited: shared by the check and the run's summary. */
export function planRows(table: PlainTable, plan: PlanApplySummary): void {
  table.push(['plan', `${plan.file}, made ${plan.createdAt}, ${plan.id}`]);
  if (plan.reviewedAt !== null) table.push(['plan reviewed', `with lead-dedupe review, ${plan.reviewedAt}`]);
  if (plan.edited) table.push(['plan edited', `yes: its lines differ from its header's digest and from its review's (now ${plan.digest})`]);
  table.push(['groups in the plan', formatCount(plan.groupsInPlan)]);
  if (plan.notAccepted > 0) table.push(['groups not accepted in review (left untouched)', formatCount(plan.notAccepted)]);
  if (plan.alreadyDone > 0) table.push(['groups already done by an earlier run of this plan', formatCount(plan.alreadyDone)]);
}

export function staleRows(table: PlainTable, plan: PlanApplySummary): void {
  table.push(['groups stale: a row changed since the plan', formatCount(plan.staleChanged)]);
  table.push(['groups stale: a row is gone since the plan', formatCount(plan.staleGone)]);
  table.push(['new rows with a planned key (left in place)', `${formatCount(plan.newRows.rows)} in ${formatCount(plan.newRows.groups)} groups`]);
}

export function newRowLines(lines: string[], plan: PlanApplySummary): void {
  if (plan.newRows.sample.length === 0) return;
  lines.push(
    '',
    `Groups with rows not in the plan (left in place; the next clean handles them)${plan.newRows.groups > plan.newRows.sample.length ? `, first ${plan.newRows.sample.length}` : ''}:`,
  );
  for (const group of plan.newRows.sample) lines.push(`  ${group.groupId}: ${formatCount(group.rows)} new row${group.rows === 1 ? '' : 's'}`);
}
