import type { ScanReport } from '../../core/scan-report.js';
import { renderAs, type OutputFormat } from '../shared/render-as.js';
import { renderScanCsv } from './csv.js';
import { renderScanTable } from './table.js';

export function renderScan(report: ScanReport, format: OutputFormat): string {
  return renderAs(format, { table: () => renderScanTable(report), json: () => report, csv: () => renderScanCsv(report) });
}
