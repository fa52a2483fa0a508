import type { ConstraintAddCheck } from '../../core/constraint/check-add.js';
import { formatCount } from '../common/format.js';
import { indexText, keyText } from '../common/constraint-text.js';
import { renderAs, type RenderContext } from '../common/render-as.js';
import { verbatim, type TextLine } from '../common/wrap.js';
import { overlapNotes } from './overlap.js';

const WHAT = {
  constraint: 'unique constraint',
  'expression-index': 'unique expression index',
  'partitioned-index': 'unique index on the partitioned table',
} as const;

const STEP = {
  'drop-invalid': 'drop the invalid index an earlier failed or interrupted build left',
  'create-function': "create the normalised column's rule function",
  build: 'build the unique index',
  attach: 'attach the index as the table constraint',
} as const;

/** `constraint add` without --execute: what was checked, each step with its lock and its SQL (never wrapped: it is pasted). */
export function renderConstraintAddCheck(check: ConstraintAddCheck, format: 'table' | 'json', context: RenderContext): string {
  return renderAs(format, { table: () => renderText(check), json: () => check }, context);
}

function renderText(check: ConstraintAddCheck): string | TextLine[] {
  if (check.outcome !== 'planned') {
    const how = check.outcome === 'exists' ? 'enforces' : 'is on fewer columns and rejects the duplicates of';
    return `already protected: ${indexText(check.existing!)} on ${check.table} ${how} key ${keyText(check.key)}; --execute would run nothing\n`;
  }
  const lines: TextLine[] = [`would add ${WHAT[check.kind]} "${check.name}" on ${check.table} for key ${keyText(check.key)}`];
  lines.push(
    check.rowsChecked === null
      ? 'no duplicates: its valid unique index is built already, only the attach is left'
      : `no duplicates under the key now: scan's count found 0 groups in ${formatCount(check.rowsChecked)} rows`,
  );
  lines.push(...overlapNotes(check));
  check.steps.forEach((step, index) => {
    lines.push(`${index + 1}. ${STEP[step.purpose]}`, `   lock: ${step.lock}`);
    const statements = step.transaction ? ['begin', ...step.sql, 'commit'] : step.sql;
    lines.push(...statements.map((text) => verbatim(`   ${text};`)));
  });
  lines.push('dry run: nothing changed; pass --execute to run these statements', '');
  return lines;
}
