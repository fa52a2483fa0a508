import type { RunSummary, RunsPage } from '../../clean/runs/runs.js';
import { formatCount } from '../common/format.js';
import { fitsAsTable, renderTable, type TableRows } from '../common/table.js';

/**
 * One row per run when it fits the width: every column; else the columns every listed run shares
 * (table, keep, mode, skipped, user@host) said once above a narrower table, with the child rows moved
 * as one total; one short card per run only when even that does not fit.
 */
export function renderRunsTable({ runs, notShown }: RunsPage, width: number): string {
  if (runs.length === 0) return 'no clean runs recorded\n';
  const full = fullTable(runs);
  const layout = fitsAsTable(full, width) ? [renderTable(full, width)] : compactLayout(runs, width);
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
  return `${[...layout, ...hidden, ...(messages.length ? ['', ...messages] : [])].join('\n')}\n`;
}

interface RunColumn {
  head: string;
  cell: (run: RunSummary) => string;
  /** Said once above the compact table when every listed run has the same value, e.g. "keep oldest". */
  shared?: (value: string) => string;
}

const COLUMNS: readonly RunColumn[] = [
  { head: 'run', cell: (run) => String(run.id) },
  { head: 'status', cell: (run) => run.status },
  { head: 'started (UTC)', cell: (run) => run.startedAt.replace('T', ' ').replace('Z', '') },
  { head: 'finished', cell: (run) => run.finishedAt?.replace('T', ' ').replace('Z', '').slice(11) ?? '-' },
  { head: 'table', cell: (run) => run.table, shared: (value) => `on ${value}` },
  { head: 'key', cell: keyWithNormalisation },
  { head: 'keep', cell: (run) => run.keep, shared: (value) => `keep ${value}` },
  { head: 'mode', cell: (run) => run.mode, shared: (value) => `mode ${value}` },
  { head: 'groups', cell: (run) => formatCount(run.groups) },
  { head: 'removed', cell: (run) => formatCount(run.rowsRemoved) },
  { head: 'merged', cell: (run) => formatCount(run.rowsMerged) },
  { head: 'child rows moved', cell: (run) => movedPerTable(run) || '-' },
  { head: 'skipped', cell: (run) => formatCount(run.groupsSkipped), shared: (value) => `${value} groups skipped` },
  { head: 'user@host', cell: (run) => `${run.dbUser}@${run.clientHost}`, shared: (value) => `by ${value}` },
];

function fullTable(runs: readonly RunSummary[]): TableRows {
  return { head: COLUMNS.map((column) => column.head), rows: runs.map((run) => COLUMNS.map((column) => column.cell(run))) };
}

/** The compact table's child rows moved: one total per run (the tables are named above it). */
const MOVED_TOTAL: RunColumn = { head: 'child rows moved', cell: (run) => formatCount(Object.values(run.childRowsMoved).reduce((a, b) => a + b, 0)) };

function compactLayout(runs: readonly RunSummary[], width: number): string[] {
  const shared = COLUMNS.filter((column) => column.shared !== undefined && new Set(runs.map(column.cell)).size === 1);
  const columns = COLUMNS.filter((column) => !shared.includes(column)).map((column) => (column.head === MOVED_TOTAL.head ? MOVED_TOTAL : column));
  const compact = { head: columns.map((column) => column.head), rows: runs.map((run) => columns.map((column) => column.cell(run))) };
  const into = [...new Set(runs.flatMap((run) => Object.keys(run.childRowsMoved)))];
  const said = [
    ...(shared.length > 0
      ? [`${runs.length === 1 ? 'the run' : `all ${runs.length} runs`}: ${shared.map((column) => column.shared!(column.cell(runs[0]!))).join(', ')}`]
      : []),
    ...(into.length > 0 ? [`child rows moved into ${into.join(', ')} (--format json has them per table)`] : []),
  ];
  return [...(said.length > 0 ? [said.join('; ')] : []), renderTable(compact, width)];
}

function movedPerTable(run: RunSummary): string {
  return Object.entries(run.childRowsMoved)
    .map(([t, n]) => `${t}: ${formatCount(n)}`)
    .join(', ');
}

/** Two runs by the same key name with different normalisation must not look alike: `device-phone (e164 phone)`. */
function keyWithNormalisation(run: RunSummary): string {
  const rules = Object.entries(run.normalize).map(([column, rule]) => `${rule} ${column}`);
  return rules.length ? `${run.key} (${rules.join(', ')})` : run.key;
}
