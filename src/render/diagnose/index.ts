import type { OutputFormat } from '../shared/format.js';
import type { DiagnoseReport } from '../../core/diagnose/diagnose-report.js';
import { renderDiagnoseCsv } from './csv.js';
import { renderDiagnoseTable } from './table.js';

export function renderDiagnose(report: DiagnoseReport, format: OutputFormat): string {
  switch (format) {
    case 'table':
      return renderDiagnoseTable(report);
    case 'json':
      return `${JSON.stringify(report, null, 2)}\n`;
    case 'csv':
      return renderDiagnoseCsv(report);
    default:
      return format satisfies never;
  }
}
