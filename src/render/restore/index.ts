import type { RestoreResult } from '../../core/clean/restore.js';
import { renderAs } from '../shared/render-as.js';
import { renderRestoreTable } from './table.js';

export type RestoreFormat = 'table' | 'json';

export function renderRestore(result: RestoreResult, format: RestoreFormat): string {
  return renderAs(format, { table: () => renderRestoreTable(result), json: () => result });
}
