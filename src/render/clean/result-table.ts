import type { CleanResult, CleanStop } from '../../clean/types.js';
import { formatCount, formatDuration, plainTable } from '../common/format.js';
import { newRowLines, planRows, staleRows } from './plan-check-table.js';
import { passwordNote, restoreCommandFor, SAME_SHELL, type CommandLineContext } from '../../keys/key-command-line.js';

/** The summary after --execute (also after a stop): what was done, and how to undo it. */
export function renderCleanResultTable(result: CleanResult, width: number, commandLine: CommandLineContext = SAME_SHELL): string {
  const rate = result.durationMs > 0 ? Math.round((result.rowsRemoved * 1000) / result.durationMs) : 0;
  const lines = [
    `clean run ${result.runId} on ${result.table} by ${result.key} (keep ${result.keep}, mode ${result.mode}): ${result.status} in ${formatDuration(result.durationMs)}`,
    '',
  ];
  const summary = plainTable({}, width);
  if (result.plan !== null) planRows(summary, result.plan);
  const remaining =
    result.groupsRemaining === null ? '' : `; ${formatCount(result.groupsRemaining)} groups remain${result.groupsRemaining > 0 ? ' (rerun to continue)' : ''}`;
  const notStaged = result.stop !== null && !result.stop.staged;
  summary.push([
    'groups cleaned',
    notStaged
      ? '0 (not staged)'
      : `${formatCount(result.groups)} of ${formatCount(result.groupsPlanned)}${result.groupsRemaining === null ? '' : ' planned'}${remaining}`,
  ]);
  summary.push(['rows removed', `${formatCount(result.rowsRemoved)} (${formatCount(rate)} rows/s)`]);
  if (result.mode === 'merge') summary.push(['keepers merged into', formatCount(result.rowsMerged)]);
  for (const child of result.childRows) summary.push([`child rows moved: ${child.table}.${child.column}`, formatCount(child.rows)]);
  summary.push(['groups skipped', formatCount(result.skippedGroups)]);
  if (result.plan !== null) staleRows(summary, result.plan);
  summary.push([
    'batches',
    !notStaged
      ? `${formatCount(result.batchesDone)} of ${formatCount(result.batches)}${result.retries > 0 ? ` (${result.retries} retried)` : ''}`
      : 'none (not staged)',
  ]);
  if (result.batchesDone > 0) {
    summary.push([
      'longest batch (row locks held)',
      `${formatDuration(result.longestBatchMs)}, at most ${formatCount(result.largestBatchRows)} rows locked in one batch`,
    ]);
  }
  lines.push(summary.toString());
  if (result.skipped.length > 0) {
    lines.push('', `Skipped groups${result.skippedGroups > result.skipped.length ? ` (first ${result.skipped.length})` : ''}:`);
    for (const group of result.skipped) lines.push(`  ${group.groupId}: ${group.reason}`);
  }
  if (result.plan !== null) newRowLines(lines, result.plan);
  // A run that did not finish (stoppedBecause is set exactly then) says where, on what, what it did and what is left.
  if (result.stop !== null) lines.push('', ...stopLines(result, result.stop));
  const changed = result.rowsRemoved > 0 || result.rowsMerged > 0;
  lines.push(
    '',
    changed
      ? `Archived in ${result.archiveSchema}; ${passwordNote('undo with', commandLine)} (without --execute it rehearses):\n  ${restoreCommandFor(result.runId, result.archiveSchema, { execute: true }, commandLine)}`
      : result.stop !== null
        ? `Run ${result.runId} changed nothing; nothing to undo.`
        : `Nothing to clean under ${result.key}; nothing to undo.`,
  );
  return `${lines.join('\n')}\n`;
}

/** A run that did not finish: where it stopped and on what, what it did before, what is left. */
function stopLines(result: CleanResult, stop: CleanStop): string[] {
  const where = !stop.staged
    ? 'while staging the duplicate groups (before any batch)'
    : stop.batch === null
      ? `after ${formatCount(result.batchesDone)} of ${formatCount(result.batches)} batches`
      : `in batch ${formatCount(stop.batch)} of ${formatCount(result.batches)}`;
  const what = result.status === 'failed' ? 'Failed' : 'Interrupted';
  const done =
    result.batchesDone === 0
      ? 'nothing was committed'
      : `${formatCount(result.batchesDone)} batches committed: ${formatCount(result.rowsRemoved)} rows removed${result.mode === 'merge' ? `, ${formatCount(result.rowsMerged)} keepers merged into` : ''}, archived under run ${result.runId}`;
  const left = !stop.staged
    ? 'every duplicate group; rerun the same clean'
    : `${formatCount(stop.groupsLeft)} groups in ${formatCount(stop.batchesLeft)} batches, not cleaned; rerun the same clean to continue`;
  const rolledBack = stop.batch === null ? '' : '; the batch was rolled back';
  return [`${what} ${where}${stop.error === null ? '' : `: ${stop.error}`}${rolledBack}.`, `Done before it: ${done}.`, `Left: ${left}.`];
}
