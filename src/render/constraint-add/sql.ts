import { keyCommand } from '../../keys/key-command-line.js';
import type { ConstraintAddPlan, PlannedStep } from '../../core/constraint/plan-add.js';
import { summarizeKey } from '../../keys/key-summary.js';
import { indexText, keyText } from '../common/constraint-text.js';
import { overlapNotes } from './overlap.js';

/** --print-sql: the migration in order, with comments, for DBAs who run migrations through their own tooling. */
export function renderConstraintAddSql(plan: ConstraintAddPlan): string {
  const lines = [`-- lead-dedupe constraint add: key ${keyText(summarizeKey(plan.key))} on ${plan.table}`];
  if (plan.existing !== null) {
    lines.push(`-- already protected by ${indexText(plan.existing)}: nothing to run`);
    return `${lines.join('\n')}\n`;
  }
  if (plan.impliedBy !== null) {
    lines.push(`-- already protected by ${indexText(plan.impliedBy)}, on fewer columns: nothing to run (--even-if-implied builds the key's own index)`);
    return `${lines.join('\n')}\n`;
  }
  lines.push(...overlapNotes(plan).flatMap((text) => text.split('\n').map((line) => `-- ${line}`)));
  lines.push(
    `-- Pre-flight (the build fails while duplicates remain): ${keyCommand(plan.key, ['scan'], ['--fail-on-duplicates'], plan.commandLine)}`,
    '--   exit 3 means: clean first.',
  );
  plan.steps.forEach((step, index) => {
    lines.push('', ...stepComment(plan, step).map((text, line) => `-- ${line === 0 ? `${index + 1}. ` : '   '}${text}`));
    if (step.transaction) lines.push('begin;');
    lines.push(...step.statements.map((statement) => `${statement.sql};`));
    if (step.transaction) lines.push('commit;');
  });
  return `${lines.join('\n')}\n`;
}

/** The comment above a planned step, in --print-sql and in migration files. */
export function stepComment(plan: ConstraintAddPlan, step: PlannedStep): string[] {
  switch (step.purpose) {
    case 'drop-invalid':
      return [`"${plan.name}" exists but is INVALID: left by an earlier failed or interrupted build. Drop it first.`];
    case 'build':
      if (plan.partitions.length > 0) {
        return [
          'The table is partitioned, and CREATE INDEX CONCURRENTLY refuses a partitioned table: the index is made on ONLY the parent',
          "(invalid, empty), built CONCURRENTLY on each partition and attached; the parent's index turns valid with the last attach.",
          'Run the statements outside any transaction block. If one fails:',
          `${plan.dropSql}; then retry.`,
          'On a partitioned table the unique index is the protection: PostgreSQL cannot attach it as a table constraint.',
        ];
      }
      if (!plan.concurrently) {
        return ['Build the unique index (embedded PGlite: one connection, so no CONCURRENTLY; writes wait while it builds).'];
      }
      return [
        'Build the unique index without blocking writes. Run it outside any transaction block.',
        'If it fails (a duplicate written meanwhile, a cancel) it leaves an INVALID index behind:',
        `${plan.dropSql}; then retry.`,
        ...(plan.kind === 'expression-index' ? ['A normalised key cannot be a table constraint: this unique expression index is the final step.'] : []),
      ];
    case 'create-function':
      return [
        "The normalised column's rule as a short SQL function in lead-dedupe's schema (IMMUTABLE, its body fixed when created):",
        "the index and the webhook's ON CONFLICT name it instead of the long expression. The webhook's role needs",
        'USAGE on that schema. Never replaced: a changed rule gets a new version in its name.',
      ];
    case 'attach':
      return [
        'Attach the index as the table constraint: a catalog change, but it takes a brief ACCESS EXCLUSIVE lock;',
        'lock_timeout makes it give up instead of queueing every insert behind a long transaction.',
      ];
    default:
      return step.purpose satisfies never;
  }
}
