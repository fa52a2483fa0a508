import { formatWindow, percent } from '../../core/diagnose/answers.js';
import type { DiagnoseReport } from '../../core/diagnose/diagnose-report.js';
import { gapLabels } from '../common/gap-labels.js';
import { formatCount, formatDuration, formatValue, plainTable } from '../common/format.js';
import { histogram } from '../common/histogram.js';

const SPARKS = '▁▂▃▄▅▆▇█';

/** One character per point, scaled to the largest: ▁▂▅█ */
export function sparkline(values: number[]): string {
  const largest = Math.max(0, ...values);
  return values.map((v) => (v === 0 || largest === 0 ? ' ' : SPARKS[Math.min(7, Math.floor((v / largest) * 7.999))])).join('');
}

/** The diagnosis for a terminal: figures, histogram bars, a trend with a bar column, then the four answers. */
export function renderDiagnoseTable(report: DiagnoseReport, width: number): string {
  const { cause, surplus } = report;
  const lines = [
    `${report.table}: ${formatCount(report.rows)} rows; key ${report.key.name} (${report.key.columns.join(', ')}${describeKeyOptions(report)}): ` +
      `${formatCount(report.groups)} duplicate groups, ${formatCount(surplus)} surplus rows (diagnosed in ${formatDuration(report.durationMs)})`,
    '',
    'Time since the previous copy (duplicates per gap):',
    ...histogram([
      ...gapLabels(report.gaps).map((label, index) => ({ label, value: report.gaps[index]!.duplicates })),
      { label: 'unknown', value: report.gapsUnknown },
    ]),
    '',
    causeTable(report, width).toString(),
    '',
    `Trend per ${report.trend.interval} (UTC), ${report.trend.days} days up to ${report.trend.newestCreatedAt ?? '-'}:`,
    trendTable(report, width),
    `  duplicates: ${sparkline(report.trend.points.map((p) => p.duplicates))}`,
    `  last duplicate ${report.trend.lastDuplicateAt ?? '-'}; ${formatCount(report.trend.last24hBeforeNow)} in the 24 hours and ${formatCount(report.trend.last7dBeforeNow)} in the 7 days before now (server clock ${report.trend.serverNow}); ${formatCount(report.trend.last24h)} and ${formatCount(report.trend.last7d)} up to the newest lead`,
    '',
    'How later copies compare with the oldest copy of their group:',
    columnsTable(report, width),
  ];
  if (report.phones !== null) {
    lines.push(
      `phones: ${formatCount(report.phones.phones)}; on more than one device ${formatCount(report.phones.onSeveralDevices)}; for more than one user ${formatCount(report.phones.forSeveralUsers)}`,
    );
  }
  if (report.by !== undefined) lines.push('', `Surplus by ${report.by.column} (${formatCount(report.by.distinctValues)} values):`, byTable(report, width));
  lines.push('', 'Answers:');
  for (const [index, { question, answer }] of report.answers.entries()) lines.push(`${index + 1}. ${question}`, `   ${answer}`, '');
  lines.push(`(race ≤ ${formatWindow(cause.raceWindowMs)}, retry ≤ ${formatWindow(cause.retryWindowMs)}, resubmission later)`);
  return `${lines.join('\n')}\n`;
}

function describeKeyOptions(report: DiagnoseReport): string {
  const normalize = Object.entries(report.key.normalize).map(([c, r]) => `${c}=${r}`);
  return (normalize.length ? `; normalize ${normalize.join(', ')}` : '') + (report.key.nullsEqual ? '; NULLs equal' : '');
}

function causeTable(report: DiagnoseReport, width: number) {
  const { cause, surplus } = report;
  const table = plainTable({ head: ['cause', 'gap', 'surplus rows', 'share'] }, width);
  table.push(
    ['race', `≤ ${formatWindow(cause.raceWindowMs)}`, formatCount(cause.race), percent(cause.race, surplus)],
    ['retry', `≤ ${formatWindow(cause.retryWindowMs)}`, formatCount(cause.retry), percent(cause.retry, surplus)],
    ['resubmission', 'longer', formatCount(cause.resubmission), percent(cause.resubmission, surplus)],
    ['unknown', 'no created time', formatCount(cause.unknown), percent(cause.unknown, surplus)],
    ['total', '', formatCount(surplus), surplus === 0 ? '-' : '100%'],
  );
  return table;
}

function trendTable(report: DiagnoseReport, width: number): string {
  const points = report.trend.points;
  if (points.length === 0) return '  (no created times)';
  const largest = Math.max(1, ...points.map((p) => p.duplicates));
  const table = plainTable({ head: ['start', 'leads', 'duplicates', ''] }, width);
  for (const point of points) {
    table.push([point.start, formatCount(point.leads), formatCount(point.duplicates), '█'.repeat(Math.round((point.duplicates / largest) * 30))]);
  }
  return table.toString();
}

function columnsTable(report: DiagnoseReport, width: number): string {
  const table = plainTable({ head: ['column', 'groups differing', 'copies differing', 'differing only here', 'groups where a copy fills it'] }, width);
  for (const [index, column] of report.columnsThatDiffer.entries()) {
    const added = report.laterCopiesAddData[index]!;
    table.push([column.column, formatCount(column.groups), formatCount(column.rows), formatCount(column.rowsDifferingOnlyHere), formatCount(added.groups)]);
  }
  table.push(['any column', formatCount(report.groupsThatDiffer), '', '', formatCount(report.groupsWithAddedData)]);
  return table.toString();
}

function byTable(report: DiagnoseReport, width: number): string {
  const by = report.by!;
  const table = plainTable({ head: [by.column, 'surplus', 'race', 'retry', 'resubmission', 'unknown'] }, width);
  const row = (label: string, v: { surplus: number; race: number; retry: number; resubmission: number; unknown: number }) =>
    table.push([label, ...[v.surplus, v.race, v.retry, v.resubmission, v.unknown].map(formatCount)]);
  for (const value of by.values) row(formatValue(value.value), value);
  if (by.otherValues !== null) row('(other values)', by.otherValues);
  return table.toString();
}
