import type { UpsertPlan } from '../../core/constraint/upsert.js';
import { keyText } from '../common/constraint-text.js';
import { renderAs, type RenderContext } from '../common/render-as.js';

export type SqlUpsertFormat = 'sql' | 'json';

export function renderSqlUpsert(plan: UpsertPlan, format: SqlUpsertFormat, context: RenderContext): string {
  return renderAs(format, { sql: () => renderSql(plan), json: () => plan }, context);
}

/** The statement with the comments a developer needs to wire it into the webhook. */
function renderSql(plan: UpsertPlan): string {
  const lines = [`-- Race-free insert for key ${keyText(plan.key)} on ${plan.table}.`];
  if (plan.arbiters.length > 0) {
    lines.push(`-- Arbiter: ${plan.arbiters.map((name) => `"${name}"`).join(', ')}, inferred by PostgreSQL from the ON CONFLICT target.`);
    if (plan.conflictColumns !== null) {
      lines.push(
        `-- That unique index is on fewer columns than the key, so ON CONFLICT names its columns (${plan.conflictColumns.join(', ')}):`,
        '-- a row equal to an existing one on them is its duplicate (the index would reject it anyway).',
        `-- For a target on exactly the key: ${plan.addCommand} --even-if-implied`,
      );
    }
  } else {
    lines.push(
      '-- WARNING: no valid unique constraint or index enforces this key yet, so PostgreSQL rejects this statement',
      '-- ("there is no unique or exclusion constraint matching the ON CONFLICT specification"). First run:',
      `--   ${plan.addCommand}`,
    );
  }
  lines.push(`-- Parameters: ${plan.insertColumns.map((column, index) => `$${index + 1} ${column}`).join(', ')}`);
  switch (plan.onDuplicate) {
    case 'skip':
      lines.push('-- Result: one row (the new id) = inserted; no row = a lead with this key exists, skipped (DUPLICATE_SKIPPED).');
      break;
    case 'update':
      lines.push(
        `-- A duplicate refreshes ${plan.updateColumns.join(', ')} from the new values (excluded.*).`,
        '-- Result: always one row: inserted = true for a new lead, false when the existing lead was updated.',
      );
      break;
    default:
      return plan.onDuplicate satisfies never;
  }
  if (!plan.key.nullsEqual) lines.push('-- A NULL in a key column never conflicts (NULLs distinct): such rows are always inserted.');
  lines.push(`${plan.sql};`, '');
  return lines.join('\n');
}
