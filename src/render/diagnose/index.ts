import type { DiagnoseReport } from '../../core/diagnose/diagnose-report.js';
import { renderAs, type OutputFormat, type RenderContext } from '../common/render-as.js';
import { renderDiagnoseCsv } from './csv.js';
import { renderDiagnoseTable } from './table.js';

export function renderDiagnose(report: DiagnoseReport, format: OutputFormat, context: RenderContext): string {
  return renderAs(format, { table: () => renderDiagnoseTable(report, context.width), json: () => report, csv: () => renderDiagnoseCsv(report) }, context);
}
