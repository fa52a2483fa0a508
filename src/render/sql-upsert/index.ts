import type { UpsertPlan } from '../../core/constraint/upsert.js';
import { keyText } from '../common/constraint-text.js';
import { renderAs, type RenderContext } from '../common/render-as.js';

export type SqlUpsertFormat = 'sql' | 'json';

export function renderSqlUpsert(plan: UpsertPlan, format: SqlUpsertFormat, context: RenderContext): string {
  return renderAs(format, { sql: () => renderSql(plan), json: () => plan }, context);
}

/** The statement with the comments a developer needs to wire it into the webhook. */
function renderSql(plan: UpsertPlan): string {
  const lines = [`-- Race-free insert for key ${keyText(plan.key)} on ${plan.table}, retry policy ${plan.onDuplicate}.`];
  if (plan.arbiters.length > 0) {
    lines.push(`-- Arbiter: ${plan.arbiters.map((name) => `"${name}"`).join(', ')}, inferred by PostgreSQL from the ON CONFLICT target.`);
    if (plan.predicate !== null)
      lines.push(`-- It is a partial unique index: the statement repeats its predicate (${plan.predicate}); rows outside it are never duplicates.`);
    if (plan.conflictColumns !== null) {
      lines.push(
        `-- That unique index is on fewer columns than the key, so ON CONFLICT names its columns (${plan.conflictColumns.join(', ')}):`,
        '-- a row equal to an existing one on them is its duplicate (the index would reject it anyway).',
      );
    }
    for (const index of plan.redundant) lines.push(`-- ${index.name} is redundant next to the arbiter; to drop it: ${index.dropCommand}`);
    if (plan.retryOnIndexes.length > 0) {
      lines.push(
        `-- --retry-on-other-index: a 23505 on ${plan.retryOnIndexes.join(', ')} reaches the caller (a row the arbiter accepts but that index rejects,`,
        '-- or a stored row a concurrent update moved while ON CONFLICT looked for it); retry it a bounded number of times,',
        '-- then treat it as a conflict with another lead.',
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
  lines.push(`-- Result: always exactly one row: id (the lead's id) and outcome, one of ${plan.outcomes.map((o) => `'${o}'`).join(', ')}.`);
  switch (plan.onDuplicate) {
    case 'skip':
      lines.push("-- A duplicate leaves the stored lead as it is: 'existed' with its id (the old DUPLICATE_SKIPPED).");
      break;
    case 'fill':
      lines.push(`-- A duplicate fills only what the stored lead lacks (${plan.updateColumns.join(', ')}); a NULL never erases a value.`);
      break;
    case 'overwrite':
      lines.push(`-- A duplicate's non-NULL values win (${plan.updateColumns.join(', ')}); a NULL never erases a value.`);
      break;
    case 'touch':
      lines.push(`-- A duplicate bumps ${plan.touchColumns.join(', ')} (timestamps to now() or the retry's value, counters +1) and changes nothing else.`);
      break;
    case 'newer':
      lines.push(
        `-- A duplicate whose ${plan.newerColumn} is later than the stored one takes its non-NULL values (${plan.updateColumns.join(', ')}); an older one changes nothing.`,
      );
      break;
    default:
      return plan.onDuplicate satisfies never;
  }
  if (plan.onDuplicate !== 'touch') lines.push("-- 'existed' comes from a no-op DO UPDATE: it writes a row version, so UPDATE triggers fire.");
  if (!plan.key.nullsEqual) lines.push('-- A NULL in a key column never conflicts (NULLs distinct): such rows are always inserted.');
  lines.push(`${plan.sql};`, '');
  return lines.join('\n');
}
