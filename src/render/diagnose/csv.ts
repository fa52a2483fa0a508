import { stringify } from 'csv-stringify/sync';
import type { DiagnoseReport } from '../../core/diagnose/diagnose-report.js';
import { CSV_CAST } from '../common/csv-cast.js';
import { gapLabels } from '../common/gap-labels.js';

/**
 * Long format, one figure per line (section, item, metric, value): the same
 * figures as the JSON report, easy to filter in a spreadsheet.
 */
export function renderDiagnoseCsv(report: DiagnoseReport): string {
  const rows: [string, string, string, number | string | null][] = [
    ['summary', report.key.name, 'rows', report.rows],
    ['summary', report.key.name, 'groups', report.groups],
    ['summary', report.key.name, 'rowsInGroups', report.rowsInGroups],
    ['summary', report.key.name, 'surplus', report.surplus],
  ];
  for (const [index, label] of gapLabels(report.gaps).entries()) rows.push(['gaps', label, 'duplicates', report.gaps[index]!.duplicates]);
  rows.push(['gaps', 'unknown', 'duplicates', report.gapsUnknown]);
  for (const cause of ['race', 'retry', 'resubmission', 'unknown', 'raceWindowMs', 'retryWindowMs'] as const)
    rows.push(['cause', cause, 'value', report.cause[cause]]);
  for (const point of report.trend.points) rows.push(['trend', point.start, 'leads', point.leads], ['trend', point.start, 'duplicates', point.duplicates]);
  rows.push(
    ['trend', 'lastDuplicateAt', 'value', report.trend.lastDuplicateAt],
    ['trend', 'serverNow', 'value', report.trend.serverNow],
    ['trend', 'last24h', 'duplicates', report.trend.last24h],
    ['trend', 'last7d', 'duplicates', report.trend.last7d],
    ['trend', 'last24hBeforeNow', 'duplicates', report.trend.last24hBeforeNow],
    ['trend', 'last7dBeforeNow', 'duplicates', report.trend.last7dBeforeNow],
  );
  for (const c of report.columnsThatDiffer)
    rows.push(
      ['columnsThatDiffer', c.column, 'groups', c.groups],
      ['columnsThatDiffer', c.column, 'rows', c.rows],
      ['columnsThatDiffer', c.column, 'rowsDifferingOnlyHere', c.rowsDifferingOnlyHere],
    );
  for (const c of report.laterCopiesAddData) rows.push(['laterCopiesAddData', c.column, 'groups', c.groups], ['laterCopiesAddData', c.column, 'rows', c.rows]);
  if (report.phones !== null)
    for (const metric of ['phones', 'onSeveralDevices', 'forSeveralUsers'] as const) rows.push(['phones', 'phones', metric, report.phones[metric]]);
  if (report.by !== undefined) {
    for (const v of [...report.by.values, ...(report.by.otherValues === null ? [] : [{ ...report.by.otherValues, value: '(other values)' }])]) {
      for (const metric of ['surplus', 'race', 'retry', 'resubmission', 'unknown'] as const)
        rows.push([`by ${report.by.column}`, v.value ?? '', metric, v[metric]]);
    }
  }
  for (const [index, a] of report.answers.entries()) rows.push(['answers', String(index + 1), a.question, a.answer]);
  return stringify(rows, { header: true, columns: ['section', 'item', 'metric', 'value'], cast: CSV_CAST });
}
