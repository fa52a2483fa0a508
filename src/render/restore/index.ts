import type { RestoreResult } from '../../clean/restore/restore.js';
import { renderAs, type RenderContext } from '../common/render-as.js';
import { renderRestoreTable } from './table.js';

export type RestoreFormat = 'table' | 'json';

export function renderRestore(result: RestoreResult, format: RestoreFormat, context: RenderContext): string {
  return renderAs(format, { table: () => renderRestoreTable(result, context.width), json: () => result }, context);
}
