import type { OutputFormat } from '../shared/format.js';
import type { ScanReport } from '../../core/scan-report.js';
import { renderScanCsv } from './csv.js';
import { renderScanTable } from './table.js';

export function renderScan(report: ScanReport, format: OutputFormat): string {
  switch (format) {
    case 'table':
      return renderScanTable(report);
    case 'json':
      return `${JSON.stringify(report, null, 2)}\n`;
    case 'csv':
      return renderScanCsv(report);
    default:
      return format satisfies never;
  }
}
