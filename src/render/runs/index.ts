import type { RunSummary } from '../../core/clean/runs.js';
import { renderAs, type OutputFormat, type RenderContext } from '../common/render-as.js';
import { renderRunsCsv } from './csv.js';
import { renderRunsTable } from './table.js';

export function renderRuns(runs: RunSummary[], format: OutputFormat, context: RenderContext): string {
  return renderAs(format, { table: () => renderRunsTable(runs, context.width), json: () => ({ runs }), csv: () => renderRunsCsv(runs) }, context);
}
