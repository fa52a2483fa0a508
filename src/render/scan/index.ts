import type { ScanReport } from '../../core/scan-report.js';
import { renderAs, type OutputFormat, type RenderContext } from '../common/render-as.js';
import { renderScanCsv } from './csv.js';
import { renderScanTable } from './table.js';

export function renderScan(report: ScanReport, format: OutputFormat, context: RenderContext): string {
  return renderAs(format, { table: () => renderScanTable(report, context.width), json: () => report, csv: () => renderScanCsv(report) }, context);
}
