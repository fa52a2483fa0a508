import type { CleanPlanWithChecks } from '../../clean/preview.js';
import { formatCount, formatDuration, formatValue, plainTable } from '../common/format.js';

/** The dry run: what --execute would do, then a sample of groups with keeper and losers. */
export function renderCleanPlanTable(plan: CleanPlanWithChecks, width: number): string {
  const normalize = Object.entries(plan.normalize)
    .map(([c, r]) => `${c}=${r}`)
    .join(', ');
  const lines = [
    `Dry run: clean ${plan.table} by ${plan.key} (${plan.columns.join(', ')}${normalize ? `; ${normalize}` : ''}; NULLs ${plan.nullsEqual ? 'equal' : 'distinct'}), keep ${plan.keep}, mode ${plan.mode} (planned in ${formatDuration(plan.durationMs)})`,
    '',
  ];
  const summary = plainTable({}, width);
  summary.push(['keeper order', plan.keeperOrder]);
  summary.push(['duplicate groups', formatCount(plan.groups)]);
  summary.push(['rows to remove', formatCount(plan.rowsToRemove)]);
  if (plan.mode === 'merge') {
    summary.push(['keepers to merge into', formatCount(plan.keepersToMerge)]);
    summary.push(['merge columns', plan.mergeColumns.join(', ') || '(none)']);
  }
  for (const child of plan.childRows) summary.push([`child rows to move: ${child.table}.${child.column}`, formatCount(child.rows)]);
  summary.push(['groups skipped (child unique conflict)', formatCount(plan.skippedGroups)]);
  summary.push(['batches', `${formatCount(plan.batches)} of up to ${formatCount(plan.batchSize)} groups and ${formatCount(plan.batchRows)} rows`]);
  lines.push(summary.toString());
  if (plan.skipped.length > 0) {
    lines.push('', 'Skipped groups:');
    for (const group of plan.skipped) lines.push(`  ${group.groupId}: ${group.reason}`);
  }
  if (plan.sample.length > 0) {
    const columns = Object.keys(plan.sample[0]!.key);
    const sample = plainTable({ head: [...columns, 'keeper', 'losers'] }, width);
    for (const group of plan.sample) {
      const losers = group.losers.slice(0, 8).join(', ') + (group.losers.length > 8 ? `, … (${group.losers.length})` : '');
      sample.push([...columns.map((c) => formatValue(group.key[c])), group.keeper, losers]);
    }
    lines.push('', `Sample groups (largest first, keep ${plan.keep}):`, sample.toString());
  }
  if (plan.missingPrivileges.length > 0) lines.push('', `--execute would stop: this user lacks ${plan.missingPrivileges.join(', ')}`);
  lines.push('', 'Nothing was changed. Add --execute to apply; every change is archived and can be undone with lead-dedupe restore.');
  return `${lines.join('\n')}\n`;
}
