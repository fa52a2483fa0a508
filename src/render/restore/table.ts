import type { RestoreResult } from '../../clean/restore/restore.js';
import { formatCount, formatDuration, plainTable } from '../common/format.js';

export function renderRestoreTable(result: RestoreResult, width: number): string {
  const lines = [
    result.executed
      ? `${result.finishing ? 'finished the restore of' : 'restored'} run ${result.runId} on ${result.table} in ${formatDuration(result.durationMs)}${
          result.status === 'restored with conflicts' ? ' (marked restored with conflicts)' : ''
        }`
      : result.dryRun === 'counted'
        ? `Dry run: restore of run ${result.runId} on ${result.table} (read-only server: counted with SELECTs, not rehearsed; only --execute meets unique conflicts beyond the ids)`
        : `Dry run: restore of run ${result.runId} on ${result.table} (rehearsed in a transaction that was rolled back)`,
    '',
  ];
  const summary = plainTable({}, width);
  summary.push(['rows re-inserted', formatCount(result.rowsReinserted)]);
  summary.push(['keepers restored', formatCount(result.keepersRestored)]);
  const conflicts = result.keeperConflicts;
  if (conflicts.total > 0) {
    const label = conflicts.overwritten ? 'merged keeper columns overwritten (--force)' : 'merged keeper columns left alone (conflicts)';
    summary.push([
      label,
      `${formatCount(conflicts.total)}${conflicts.unproven > 0 ? ` (${formatCount(conflicts.unproven)} from an archive that cannot prove them unchanged)` : ''}`,
    ]);
  }
  const { renamed, dropped, added } = result.columns;
  if (renamed.length > 0) summary.push(['archived columns renamed (--map)', renamed.map(({ from, to }) => `${from} → ${to}`).join(', ')]);
  if (dropped.length > 0) summary.push(['archived columns not restored (--drop-column)', dropped.join(', ')]);
  if (added.length > 0) summary.push(['columns added since the clean (their defaults)', added.join(', ')]);
  for (const child of result.childRows) {
    const changed = child.archived - child.movedBack;
    summary.push([
      `child rows moved back: ${child.table}.${child.column}`,
      `${formatCount(child.movedBack)}${changed > 0 ? ` (${formatCount(changed)} changed or deleted since, left alone)` : ''}`,
    ]);
  }
  lines.push(summary.toString());
  if (conflicts.total > 0) lines.push('', ...conflictLines(result, width));
  if (!result.executed) lines.push('', 'Nothing was changed. Add --execute to restore.');
  return `${lines.join('\n')}\n`;
}

function conflictLines(result: RestoreResult, width: number): string[] {
  const conflicts = result.keeperConflicts;
  const what = conflicts.overwritten
    ? `--force: these merged keeper columns no longer held what the merge wrote (or the archive cannot tell) and ${result.executed ? 'were' : 'would be'} put back anyway:`
    : `These merged keeper columns no longer hold what the merge wrote (the application changed them since, or the archive cannot tell); restore ${result.executed ? 'left' : 'will leave'} them as they are:`;
  const table = plainTable({}, width);
  table.push(['keeper', 'column', 'value now', 'why']);
  for (const conflict of conflicts.sample) {
    table.push([
      conflict.keeperId,
      conflict.column,
      conflict.current ?? 'NULL',
      conflict.unproven ? 'archive predates merged values' : 'changed since the clean',
    ]);
  }
  const lines = [what, table.toString()];
  if (conflicts.total > conflicts.sample.length)
    lines.push(`… and ${formatCount(conflicts.total - conflicts.sample.length)} more (--format json lists the first ${conflicts.sample.length})`);
  if (!conflicts.overwritten) {
    lines.push(
      result.executed
        ? `Exit 1: the run is marked "restored with conflicts"; the values from before the merge stay in the archive (lead_dedupe_keepers.row_data, run ${result.runId}): restore ${result.runId} --force puts them back.`
        : 'To put back the archived values over them instead, add --force.',
    );
  }
  return lines;
}
