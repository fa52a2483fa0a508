import type { ConstraintAddResult } from '../../core/constraint/apply-add.js';
import { formatCount, formatDuration } from '../common/format.js';
import { indexText, keyColumnsText, keyText } from '../common/constraint-text.js';
import { renderAs, type RenderContext } from '../common/render-as.js';

export { overlapNotes } from './overlap.js';
export { renderConstraintAddCheck } from './dry-run.js';

export function renderConstraintAdd(result: ConstraintAddResult, format: 'table' | 'json', context: RenderContext): string {
  return renderAs(format, { table: () => renderText(result), json: () => result }, context);
}

function renderText(result: ConstraintAddResult): string {
  const what = result.kind === 'constraint' ? 'unique constraint' : 'unique index';
  const lines: string[] = [];
  if (result.droppedInvalid !== null) lines.push(`dropped the invalid index "${result.droppedInvalid}" left by an earlier failed or interrupted build`);
  switch (result.outcome) {
    case 'exists':
      lines.push(`already protected: ${indexText(result.existing!)} on ${result.table} enforces key ${keyText(result.key)}; nothing to do`);
      return `${lines.join('\n')}\n`;
    case 'implied':
      lines.push(
        `already protected: ${indexText(result.existing!)} on ${result.table} is on fewer columns than key ${keyText(result.key)} and rejects its duplicates already; ` +
          "nothing built (--even-if-implied builds the key's own index, e.g. for an ON CONFLICT on exactly its columns)",
      );
      return `${lines.join('\n')}\n`;
    case 'attached':
      lines.push(`attached the existing unique index "${result.name}" as ${what} "${result.name}" on ${result.table} (${keyColumnsText(result.key)})`);
      break;
    case 'created':
      lines.push(`created ${what} "${result.name}" on ${result.table} for key ${keyText(result.key)}`);
      break;
    default:
      return result.outcome satisfies never;
  }
  if (result.buildMs !== null) {
    lines.push(
      `  index built ${result.concurrently ? 'with CREATE UNIQUE INDEX CONCURRENTLY (writes kept flowing)' : 'with a plain CREATE UNIQUE INDEX'} in ${formatDuration(result.buildMs)}: ` +
        'no duplicates (the build checked every row; duplicates are counted only when it fails)',
    );
  }
  if (result.driver === 'pglite') {
    lines.push('  embedded PGlite has a single connection, so CONCURRENTLY does not apply there: the plain build locked out writes while it ran');
  }
  if (result.attachMs !== null) {
    lines.push(`  attached with ALTER TABLE … ADD CONSTRAINT … UNIQUE USING INDEX in ${formatDuration(result.attachMs)} (lock_timeout ${result.lockTimeout})`);
  }
  if (result.kind === 'partitioned-index') {
    lines.push(
      `  ${result.table} is partitioned: ${result.partitions > 0 ? `built on ONLY the parent, then CONCURRENTLY on each of ${formatCount(result.partitions)} partitions and attached; ` : ''}` +
        'the unique index is the protection (PostgreSQL cannot turn an index on a partitioned table into a constraint); ON CONFLICT uses it',
    );
  }
  if (result.kind === 'expression-index') {
    lines.push(
      '  a normalised key cannot be a table constraint in PostgreSQL: this is a unique expression index on exactly the expression scan groups by;',
      `  INSERT … ON CONFLICT must name that expression: lead-dedupe sql upsert --key ${result.key.name} … prints it`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** --print-sql: the plan (before anything runs) as a migration script; sql.ts holds it. */
export { renderConstraintAddSql } from './sql.js';
