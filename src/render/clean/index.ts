import type { CleanPlanWithChecks } from '../../core/clean/plan-clean.js';
import type { CleanResult } from '../../core/clean/clean-types.js';
import type { RestoreResult } from '../../core/clean/restore.js';
import { renderCleanPlanTable } from './plan-table.js';
import { renderCleanResultTable } from './result-table.js';
import { renderRestoreTable } from '../restore/table.js';

export type CleanFormat = 'table' | 'json';

export type CleanReport =
  | { kind: 'plan'; plan: CleanPlanWithChecks }
  | { kind: 'result'; result: CleanResult }
  | { kind: 'restore'; result: RestoreResult };

export function renderCleanReport(report: CleanReport, format: CleanFormat): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(report.kind === 'plan' ? { dryRun: true, ...report.plan } : report.result, null, 2)}\n`;
    case 'table':
      return renderTable(report);
    default:
      return format satisfies never;
  }
}

function renderTable(report: CleanReport): string {
  switch (report.kind) {
    case 'plan':
      return renderCleanPlanTable(report.plan);
    case 'result':
      return renderCleanResultTable(report.result);
    case 'restore':
      return renderRestoreTable(report.result);
    default:
      return report satisfies never;
  }
}
