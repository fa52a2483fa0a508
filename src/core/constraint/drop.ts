import type { Database } from '../../db/database.js';
import { qualifiedName } from '../../db/catalog.js';
import { findNameOwner, listUniqueIndexes, type UniqueIndexInfo } from '../../db/unique-indexes.js';
import { CatalogError, DatabaseError, LockHeldError, UsageError } from '../../errors.js';
import type { LeadTable } from '../../keys/key-definition.js';
import { dropConstraintStatement, dropIndexStatement, setLocalLockTimeoutStatement } from '../../sql/constraint-plan.js';
import { describeDatabaseError, sqlStateOf } from '../../db/database-error.js';
import { DEFAULT_LOCK_TIMEOUT_MS } from './options.js';
import { pgDuration } from '../../sql/pg-duration.js';
import { planStatement, runStep, type SqlStep } from './sql-step.js';
import { requireWritable } from '../../db/read-only.js';
import { partitionTree } from '../../db/partitions.js';

export interface ConstraintDropOptions {
  table: LeadTable;
  name: string;
  /** lock_timeout of ALTER TABLE … DROP CONSTRAINT, in ms (default 5 s). */
  lockTimeoutMs?: number;
}

export interface ConstraintDropPlan {
  table: string;
  name: string;
  target: UniqueIndexInfo;
  /** A constraint goes with ALTER TABLE (which drops its index too); a bare index with DROP INDEX. */
  action: 'drop constraint' | 'drop index';
  concurrently: boolean;
  lockTimeout: string;
  step: SqlStep;
}

export interface ConstraintDropResult {
  plan: Omit<ConstraintDropPlan, 'step'> & { sql: string[] };
  executed: boolean;
  durationMs: number | null;
}

/** Finds the unique constraint or index by name on the table; refuses the primary key and anything not unique. */
export async function planConstraintDrop(database: Database, options: ConstraintDropOptions): Promise<ConstraintDropPlan> {
  const { table, name } = options;
  const lockTimeout = pgDuration(options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS);
  const indexes = await listUniqueIndexes(database, table.info.oid);
  const target = indexes.find((index) => index.name === name || index.constraint === name);
  if (!target) {
    const owner = await findNameOwner(database.db, table.info.schema, name, table.info.oid);
    const here = indexes.map((index) => index.name).join(', ') || '(none)';
    if (owner !== null)
      throw new UsageError(`"${name}" is a ${owner.kind}, not a unique constraint or unique index on ${qualifiedName(table.info)}; unique ones here: ${here}`);
    throw new CatalogError(`no unique constraint or index "${name}" on ${qualifiedName(table.info)}; unique ones here: ${here}`);
  }
  if (target.kind === 'primary key')
    throw new UsageError(`"${name}" is the primary key of ${qualifiedName(table.info)}; lead-dedupe does not drop primary keys`);
  // A partitioned table's index cannot be dropped CONCURRENTLY (PostgreSQL refuses); it is dropped plainly there.
  const concurrently = database.features.driver === 'postgres' && (await partitionTree(database.db, table.info.oid)) === null;
  const step = planDropStep(database, table, target, { lockTimeout, concurrently });
  return {
    table: qualifiedName(table.info),
    name,
    target,
    action: target.constraint !== null ? 'drop constraint' : 'drop index',
    concurrently: target.constraint === null && concurrently,
    lockTimeout,
    step,
  };
}

/**
 * What `constraint drop` runs for a unique constraint or index: a constraint
 * goes with ALTER TABLE under lock_timeout, in a transaction (its index goes
 * with it); a bare index with DROP INDEX (CONCURRENTLY unless `concurrently`
 * is false). Migration files write the same step as their down.
 */
export function planDropStep(
  database: Database,
  table: LeadTable,
  target: { name: string; constraint: string | null },
  options: { lockTimeout: string; concurrently: boolean },
): SqlStep {
  const compile = (query: Parameters<typeof planStatement>[1]) => planStatement(database, query);
  return target.constraint !== null
    ? {
        transaction: true,
        statements: [compile(setLocalLockTimeoutStatement(options.lockTimeout)), compile(dropConstraintStatement(table, target.constraint))],
      }
    : { transaction: false, statements: [compile(dropIndexStatement(table.info.schema, target.name, { concurrently: options.concurrently }))] };
}

/** Dry run unless `execute`: then runs the plan's statements. */
export async function dropConstraint(database: Database, options: ConstraintDropOptions & { execute: boolean }): Promise<ConstraintDropResult> {
  const plan = await planConstraintDrop(database, options);
  const { step, ...rest } = plan;
  const summary = { ...rest, sql: step.statements.map((s) => s.sql) };
  if (!options.execute) return { plan: summary, executed: false, durationMs: null };
  requireWritable(database);
  const started = performance.now();
  try {
    await runStep(database, step);
  } catch (error) {
    if (sqlStateOf(error) === '55P03') {
      throw new LockHeldError(`could not lock ${plan.table} within lock_timeout ${plan.lockTimeout}; nothing was dropped`, {
        table: plan.table,
        lockTimeout: plan.lockTimeout,
      });
    }
    throw new DatabaseError(`dropping "${plan.name}" failed: ${describeDatabaseError(error)}`);
  }
  return { plan: summary, executed: true, durationMs: Math.round(performance.now() - started) };
}
