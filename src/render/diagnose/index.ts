import type { DiagnoseReport } from '../../core/diagnose/diagnose-report.js';
import { renderAs, type OutputFormat } from '../shared/render-as.js';
import { renderDiagnoseCsv } from './csv.js';
import { renderDiagnoseTable } from './table.js';

export function renderDiagnose(report: DiagnoseReport, format: OutputFormat): string {
  return renderAs(format, { table: () => renderDiagnoseTable(report), json: () => report, csv: () => renderDiagnoseCsv(report) });
}
