import type { RunSummary, RunsPage } from '../../clean/runs/runs.js';
import { formatCount, plainTable } from '../common/format.js';

export function renderRunsTable({ runs, notShown }: RunsPage, width: number): string {
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
      keyWithNormalisation(run),
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
  // A restored run's "interrupted … rerun to continue" no longer applies: its rows are back. One restored with conflicts says how to finish it.
  const messages = runs
    .filter((run) => run.message !== null && (run.restoredAt === null || run.status === 'restored with conflicts'))
    .map((run) => `run ${run.id}: ${run.message}`);
  for (const run of runs.filter((r) => r.plan !== null)) {
    const plan = run.plan!;
    messages.push(`run ${run.id} applied plan ${plan.file} (${plan.id}, made ${plan.createdAt})${plan.edited ? ', edited by hand after it was written' : ''}`);
  }
  const hidden =
    notShown > 0 ? [`${formatCount(notShown)} older run${notShown === 1 ? '' : 's'} not shown (list them with --limit ${runs.length + notShown})`] : [];
  return `${[table.toString(), ...hidden, ...(messages.length ? ['', ...messages] : [])].join('\n')}\n`;
}

/** Two runs by the same key name with different normalisation must not look alike: `device-phone (e164 phone)`. */
function keyWithNormalisation(run: RunSummary): string {
  const rules = Object.entries(run.normalize).map(([column, rule]) => `${rule} ${column}`);
  return rules.length ? `${run.key} (${rules.join(', ')})` : run.key;
}
