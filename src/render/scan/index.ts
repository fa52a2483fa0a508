import type { ScanReport } from '../../scan/scan-report.js';
import { renderAs, type OutputFormat, type RenderContext } from '../common/render-as.js';
import { renderScanCsv } from './csv.js';
import { renderScanMetrics } from './prometheus.js';
import { renderScanTable } from './table.js';

/** scan's --format choices: the common ones, and the Prometheus text format. */
export const SCAN_FORMATS = ['table', 'json', 'csv', 'prometheus'] as const;
export type ScanFormat = OutputFormat | 'prometheus';

/**
 * prom-client serialises asynchronously, so the Prometheus text is made here
 * rather than through renderAs; its time stamp is the report's generatedAt.
 */
export async function renderScan(report: ScanReport, format: ScanFormat, context: RenderContext): Promise<string> {
  if (format === 'prometheus') return renderScanMetrics(report, new Date(context.generatedAt));
  return renderAs(format, { table: () => renderScanTable(report, context.width), json: () => report, csv: () => renderScanCsv(report) }, context);
}
