import type { IndexAddResult } from '../../core/key-index/apply-index.js';
import type { IndexAddPlan } from '../../core/key-index/plan-index.js';
import { summarizeKey } from '../../keys/key-summary.js';
import { keyText, shorten } from '../common/constraint-text.js';
import { formatDuration } from '../common/format.js';
import { renderAs, type RenderContext } from '../common/render-as.js';
import { verbatim, type TextLine } from '../common/wrap.js';

export function renderIndexAdd(result: IndexAddResult, format: 'table' | 'json', context: RenderContext): string {
  return renderAs(format, { table: () => renderText(result), json: () => result }, context);
}

function renderText(result: IndexAddResult): string | TextLine[] {
  const on = `${result.table} (${result.elements.map((element) => shorten(element)).join(', ')})`;
  switch (result.outcome) {
    case 'exists':
      return `"${result.existing}" on ${result.table} already serves key ${keyText(result.key)} (its leading columns are the key's); nothing to do\n`;
    case 'planned':
      return [
        `would build index "${result.name}" on ${on} for key ${keyText(result.key)} with:`,
        ...result.sql.map((text) => verbatim(`  ${text};`)),
        `dry run: nothing changed; pass --execute to build it${result.concurrently ? ' (writes keep flowing: CONCURRENTLY)' : ''}`,
        '',
      ];
    case 'created':
      return [
        ...(result.droppedInvalid !== null ? [`dropped the invalid index "${result.droppedInvalid}" left by an earlier failed or interrupted build`] : []),
        `created index "${result.name}" on ${on} for key ${keyText(result.key)} in ${formatDuration(result.buildMs ?? 0)}`,
        result.concurrently
          ? '  built with CREATE INDEX CONCURRENTLY (writes kept flowing)'
          : '  embedded PGlite has a single connection: a plain CREATE INDEX, which locked out writes while it ran',
        '  scan --since now looks each new key up through it',
        '',
      ].join('\n');
    default:
      return result.outcome satisfies never;
  }
}

/** --print-sql: the plan as a migration script, for DBAs who run migrations through their own tooling. */
export function renderIndexAddSql(plan: IndexAddPlan): string {
  const lines = [`-- lead-dedupe index add: key ${keyText(summarizeKey(plan.key))} on ${plan.table}`];
  if (plan.existing !== null) {
    lines.push(`-- "${plan.existing.name}" already serves the key: nothing to run`);
    return `${lines.join('\n')}\n`;
  }
  for (const step of plan.steps) {
    lines.push('');
    if (step.purpose === 'drop-invalid') {
      lines.push(`-- "${plan.name}" exists but is INVALID: left by an earlier failed or interrupted build. Drop it first.`);
    } else if (step.purpose === 'create-function') {
      lines.push("-- The normalised column's rule as a short SQL function in lead-dedupe's schema (IMMUTABLE, never replaced); the index calls it.");
      lines.push('begin;', ...step.statements.map((statement) => `${statement.sql};`), 'commit;');
      continue;
    } else if (plan.concurrently) {
      lines.push(
        '-- A plain index on exactly the expressions scan groups by, built without blocking writes. Run it outside any transaction block.',
        `-- If it fails (a cancel) it leaves an INVALID index behind: ${plan.dropSql}; then retry.`,
      );
    } else {
      lines.push('-- A plain index on exactly the expressions scan groups by (embedded PGlite: one connection, so no CONCURRENTLY).');
    }
    lines.push(...step.statements.map((statement) => `${statement.sql};`));
  }
  return `${lines.join('\n')}\n`;
}
