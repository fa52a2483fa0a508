import type { RawBuilder } from 'kysely';
import type { Database } from '../../db/database.js';
import { UsageError } from '../../errors.js';
import { cleanCommandFor } from '../../keys/key-command-line.js';
import { doStatement, nameGuardBody, preflightBody, transactionBody, verifyBody, type MigrationTargetKind } from '../../sql/migration-plan.js';
import { planDropStep } from './drop.js';
import { planConstraintAdd, type ConstraintAddOptions, type ConstraintAddPlan, type PlannedStep } from './plan-add.js';
import type { SqlStep } from './sql-step.js';

/** A statement of a migration file, complete and runnable on its own (without the `;`). */
export interface MigrationStatement {
  sql: string;
  /** Must run outside any transaction block (CONCURRENTLY): a tool must send it alone, never batched with others. */
  alone: boolean;
}

/**
 * One step of the migration. `planned` is the step of constraint add's own
 * plan it was written from (null for the checks only a migration needs: the
 * name guard, the pre-flight, the down).
 */
export interface MigrationStep {
  purpose: PlannedStep['purpose'] | 'guard' | 'preflight' | 'drop';
  planned: PlannedStep | null;
  statements: MigrationStatement[];
}

export interface ConstraintMigration {
  plan: ConstraintAddPlan;
  kind: MigrationTargetKind;
  /** Every step of constraint add's plan in order, the guard before the invalid-leftover drop and the pre-flight before the build. */
  up: MigrationStep[];
  /** What constraint drop runs for the constraint (or index) up creates. */
  down: MigrationStep[];
  /** One statement that fails unless the constraint (or index) is there and valid (sqitch's verify). */
  verify: string;
}

/**
 * Plans `constraint add --migration`: the same plan constraint add runs
 * (planConstraintAdd, for another database: forMigration), written as
 * statements a migration tool can run outside a transaction. Reads the
 * catalog, changes nothing.
 */
export async function planConstraintMigration(database: Database, options: ConstraintAddOptions): Promise<ConstraintMigration> {
  const plan = await planConstraintAdd(database, { ...options, forMigration: true });
  const table = `${plan.key.table.info.schema}.${plan.key.table.info.name}`;
  if (plan.existing !== null) {
    throw new UsageError(
      `key ${plan.key.name} on ${table} is already enforced here by "${plan.existing.constraint ?? plan.existing.name}": ` +
        'a migration would build a second unique index on the same columns; nothing was written',
    );
  }
  if (plan.impliedBy !== null) {
    throw new UsageError(
      `key ${plan.key.name} on ${table} is already enforced here by "${plan.impliedBy.constraint ?? plan.impliedBy.name}", on fewer columns: ` +
        "nothing to migrate (--even-if-implied writes the key's own index); nothing was written",
    );
  }
  const kind: MigrationTargetKind = plan.kind === 'constraint' ? 'constraint' : 'expression-index';
  const inline = (query: RawBuilder<unknown>) => inlineSql(database, query);
  const up: MigrationStep[] = [];
  for (const step of plan.steps) {
    if (step.purpose === 'drop-invalid') {
      up.push(checkStep('guard', inline(nameGuardBody(plan.key.table, plan.name, kind))));
    }
    if (step.purpose === 'build') {
      up.push(checkStep('preflight', inline(preflightBody(plan.key, cleanCommandFor(plan.key, plan.commandLine)))));
    }
    up.push({ purpose: step.purpose, planned: step, statements: migrationStatements(database, step) });
  }
  const drop = planDropStep(
    database,
    plan.key.table,
    { name: plan.name, constraint: kind === 'constraint' ? plan.name : null },
    { lockTimeout: plan.lockTimeout, concurrently: true },
  );
  return {
    plan,
    kind,
    up,
    down: [{ purpose: 'drop', planned: null, statements: migrationStatements(database, drop) }],
    verify: doStatement(inline(verifyBody(plan.key.table, plan.name, kind))),
  };
}

function checkStep(purpose: 'guard' | 'preflight', body: string): MigrationStep {
  return { purpose, planned: null, statements: [{ sql: doStatement(body), alone: false }] };
}

/** A transaction step becomes one DO block (one statement, one implicit transaction); the others' statements run each alone. */
function migrationStatements(database: Database, step: SqlStep): MigrationStatement[] {
  const texts = step.statements.map((statement) => inlineSql(database, statement.query));
  if (step.transaction) return [{ sql: doStatement(transactionBody(texts)), alone: false }];
  return texts.map((text) => ({ sql: text, alone: true }));
}

/** A file cannot carry bind parameters: every value must be a literal in the text. */
function inlineSql(database: Database, query: RawBuilder<unknown>): string {
  const compiled = query.compile(database.db);
  if (compiled.parameters.length > 0) throw new Error(`a migration statement needs bind parameters, which a file cannot carry: ${compiled.sql}`);
  return compiled.sql;
}
