import type { IndexDropResult } from '../../core/key-index/drop-index.js';
import { keyText } from '../common/constraint-text.js';
import { formatDuration } from '../common/format.js';
import { renderAs, type RenderContext } from '../common/render-as.js';
import { verbatim, type TextLine } from '../common/wrap.js';

export function renderIndexDrop(result: IndexDropResult, format: 'table' | 'json', context: RenderContext): string {
  return renderAs(format, { table: () => renderText(result), json: () => result }, context);
}

function renderText(result: IndexDropResult): string | TextLine[] {
  const what = `index "${result.name}" on ${result.table} (key ${keyText(result.key)}${result.valid === false ? ', INVALID' : ''})`;
  switch (result.outcome) {
    case 'absent':
      return `no index "${result.name}" on ${result.table}; nothing to do\n`;
    case 'planned':
      return [`would drop ${what} with:`, ...result.sql.map((text) => verbatim(`  ${text};`)), 'dry run: nothing changed; pass --execute to drop it', ''];
    case 'dropped':
      return [`dropped ${what} in ${formatDuration(result.durationMs ?? 0)} with:`, ...result.sql.map((text) => verbatim(`  ${text};`)), ''];
    default:
      return result.outcome satisfies never;
  }
}
