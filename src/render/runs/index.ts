import type { RunSummary } from '../../core/clean/runs.js';
import { renderAs, type OutputFormat } from '../shared/render-as.js';
import { renderRunsCsv } from './csv.js';
import { renderRunsTable } from './table.js';

export function renderRuns(runs: RunSummary[], format: OutputFormat): string {
  return renderAs(format, { table: () => renderRunsTable(runs), json: () => runs, csv: () => renderRunsCsv(runs) });
}
