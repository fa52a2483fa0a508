import type { ConstraintDropResult } from '../../core/constraint/drop.js';
import { formatDuration } from '../common/format.js';
import { indexText, shorten } from '../common/constraint-text.js';
import { renderAs, type RenderContext } from '../common/render-as.js';
import { verbatim, type TextLine } from '../common/wrap.js';

export function renderConstraintDrop(result: ConstraintDropResult, format: 'table' | 'json', context: RenderContext): string {
  return renderAs(format, { table: () => renderText(result), json: () => result }, context);
}

function renderText(result: ConstraintDropResult): TextLine[] {
  const { plan } = result;
  const target = `${indexText(plan.target)} on ${plan.table} (${plan.target.elements.map((element) => shorten(element)).join(', ')})`;
  const statements = plan.sql.map((text) => `  ${text};`);
  const transaction = plan.action === 'drop constraint';
  const body = (transaction ? ['  begin;', ...statements, '  commit;'] : statements).map(verbatim);
  if (!result.executed) {
    return [`would drop ${target} with:`, ...body, 'dry run: nothing changed; pass --execute to drop it', ''];
  }
  return [`dropped ${target} in ${formatDuration(result.durationMs ?? 0)} with:`, ...body, ''];
}
