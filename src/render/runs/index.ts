import type { RunsPage } from '../../clean/runs/runs.js';
import { renderAs, type OutputFormat, type RenderContext } from '../common/render-as.js';
import { renderRunsCsv } from './csv.js';
import { renderRunsTable } from './table.js';

/** The CSV holds the runs alone (one line per run); the table's footer and the JSON say how many were left out. */
export function renderRuns(page: RunsPage, format: OutputFormat, context: RenderContext): string {
  return renderAs(
    format,
    { table: () => renderRunsTable(page, context.width), json: () => ({ runs: page.runs, notShown: page.notShown }), csv: () => renderRunsCsv(page.runs) },
    context,
  );
}
