import type { RunSummary } from '../../core/clean/runs.js';
import { formatCount, plainTable } from '../shared/format.js';

export function renderRunsTable(runs: RunSummary[], width: number): string {
  if (runs.length === 0) return 'no clean runs recorded\n';
  const table = plainTable(
    {
      head: [
        'run',
        'status',
        'started (UTC)',
        'finished',
        'table',
        'key',
        'keep',
        'mode',
        'groups',
        'removed',
        'merged',
        'child rows moved',
        'skipped',
        'user@host',
      ],
    },
    width,
  );
  for (const run of runs) {
    const moved =
      Object.entries(run.childRowsMoved)
        .map(([t, n]) => `${t}: ${formatCount(n)}`)
        .join(', ') || '-';
    table.push([
      String(run.id),
      run.status,
      run.startedAt.replace('T', ' ').replace('Z', ''),
      run.finishedAt?.replace('T', ' ').replace('Z', '').slice(11) ?? '-',
      run.table,
      run.key,
      run.keep,
      run.mode,
      formatCount(run.groups),
      formatCount(run.rowsRemoved),
      formatCount(run.rowsMerged),
      moved,
      formatCount(run.groupsSkipped),
      `${run.dbUser}@${run.clientHost}`,
    ]);
  }
  const messages = runs.filter((run) => run.message !== null).map((run) => `run ${run.id}: ${run.message}`);
  return `${[table.toString(), ...(messages.length ? ['', ...messages] : [])].join('\n')}\n`;
}
