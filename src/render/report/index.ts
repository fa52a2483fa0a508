import type { ReportData } from '../../core/report/report-data.js';
import { renderAs, type RenderContext } from '../common/render-as.js';
import { renderReportHtml } from './html.js';

/** report writes one self-contained HTML page; the format argument keeps the shape of every renderer. */
export function renderReport(data: ReportData, format: 'html', context: RenderContext): string {
  return renderAs(format, { html: () => renderReportHtml(data) }, context);
}
