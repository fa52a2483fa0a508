import type { ConnectionReport } from '../../core/connection/connection-report.js';
import { renderAs, type RenderContext } from '../common/render-as.js';
import { renderTable } from '../common/table.js';

export type ConnectionFormat = 'table' | 'json';

/** The settings as a setting/value/source table, the endpoints in the order tried below it; JSON carries the same. */
export function renderConnection(report: ConnectionReport, format: ConnectionFormat, context: RenderContext): string {
  return renderAs(
    format,
    {
      table: () => {
        const table = renderTable(
          { head: ['setting', 'value', 'from'], rows: report.settings.map((row) => [row.setting, row.value, row.source]) },
          context.width,
        );
        const order = report.endpoints.length === 0 ? '' : `tried in order: ${report.endpoints.join(', ')}\n`;
        return `${table}\n${order}`;
      },
      json: () => ({ kind: report.kind, endpoints: report.endpoints, settings: report.settings }),
    },
    context,
  );
}
