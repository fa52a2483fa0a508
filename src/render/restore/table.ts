import type { RestoreResult } from '../../core/clean/restore.js';
import { formatCount, formatDuration, plainTable } from '../shared/format.js';

export function renderRestoreTable(result: RestoreResult): string {
  const lines = [
    result.executed
      ? `restored run ${result.runId} on ${result.table} in ${formatDuration(result.durationMs)}`
      : result.dryRun === 'counted'
        ? `Dry run: restore of run ${result.runId} on ${result.table} (read-only server: counted with SELECTs, not rehearsed; only --execute meets unique conflicts beyond the ids)`
        : `Dry run: restore of run ${result.runId} on ${result.table} (rehearsed in a transaction that was rolled back)`,
    '',
  ];
  const summary = plainTable();
  summary.push(['rows re-inserted', formatCount(result.rowsReinserted)]);
  summary.push(['keepers restored', formatCount(result.keepersRestored)]);
  for (const child of result.childRows) {
    const changed = child.archived - child.movedBack;
    summary.push([`child rows moved back: ${child.table}.${child.column}`, `${formatCount(child.movedBack)}${changed > 0 ? ` (${formatCount(changed)} changed or deleted since, left alone)` : ''}`]);
  }
  lines.push(summary.toString());
  if (!result.executed) lines.push('', 'Nothing was changed. Add --execute to restore.');
  return `${lines.join('\n')}\n`;
}
