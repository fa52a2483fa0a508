import type { Database } from '../../db/database.js';
import { indexValidity, type UniqueIndexInfo } from '../../db/unique-indexes.js';
import { DatabaseError, LockHeldError } from '../../errors.js';
import { formatCount } from '../../util/format-count.js';
import { dropIndexStatement, setLocalLockTimeoutStatement } from '../../sql/constraint-plan.js';
import { dropPartitionIndexStatements } from './plan-partitions.js';
import { scan } from '../scan.js';
import { cleanCommandFor } from '../../keys/key-command-line.js';
import { describeDatabaseError, sqlStateOf } from '../../db/database-error.js';
import { DuplicatesBlockConstraintError } from './errors.js';
import { planStatement, runStep } from './sql-step.js';
import { requireWritable } from '../../db/read-only.js';
import { summarizeKey, type KeySummary } from '../../keys/key-summary.js';
import { planConstraintAdd, type ConstraintAddOptions, type ConstraintAddPlan, type ConstraintKind, type PlannedStep } from './plan-add.js';

export interface ConstraintAddResult {
  table: string;
  key: KeySummary;
  name: string;
  kind: ConstraintKind;
  /** exists: an equivalent one was there, nothing ran; implied: a unique index on fewer of the key's columns rejects its duplicates already, nothing ran; created: built (and attached); attached: an earlier run's valid index was attached. */
  outcome: 'exists' | 'implied' | 'created' | 'attached';
  /** The index that protects the key already (outcome exists or implied). */
  existing: UniqueIndexInfo | null;
  driver: Database['features']['driver'];
  concurrently: boolean;
  lockTimeout: string;
  /** The invalid index of an earlier failed build that was dropped first. */
  droppedInvalid: string | null;
  /** The duplicate count that cleared the build (the same statement as scan); null when no build ran. */
  preflight: { rows: number; groups: number } | null;
  buildMs: number | null;
  attachMs: number | null;
  /** Partitions that got their own index built CONCURRENTLY and attached (0 unless the table is partitioned). */
  partitions: number;
}

/** Plans and runs `constraint add`: the programmatic API behind the CLI. */
export async function addConstraint(database: Database, options: ConstraintAddOptions): Promise<ConstraintAddResult> {
  return applyConstraintAdd(database, await planConstraintAdd(database, options));
}

/**
 * Runs a plan: drop an invalid leftover, pre-flight count, build, verify,
 * attach. A failed build never leaves its invalid index behind; a duplicate
 * written during a concurrent build fails with exit 3 like the pre-flight.
 */
export async function applyConstraintAdd(database: Database, plan: ConstraintAddPlan): Promise<ConstraintAddResult> {
  requireWritable(database);
  const result: ConstraintAddResult = {
    table: plan.table,
    key: summarizeKey(plan.key),
    name: plan.name,
    kind: plan.kind,
    outcome: plan.existing !== null ? 'exists' : plan.impliedBy !== null ? 'implied' : plan.resume ? 'attached' : 'created',
    existing: plan.existing ?? plan.impliedBy,
    driver: database.features.driver,
    concurrently: plan.concurrently,
    lockTimeout: plan.lockTimeout,
    droppedInvalid: null,
    preflight: null,
    buildMs: null,
    attachMs: null,
    partitions: plan.partitions.length,
  };
  for (const step of plan.steps) {
    switch (step.purpose) {
      case 'drop-invalid':
        // Dropped before the pre-flight: an invalid unique index is still maintained on every write and may reject inserts.
        await runStep(database, step);
        result.droppedInvalid = plan.name;
        break;
      case 'build': {
        // The pre-flight count and the build run at once, on two connections: run one after the other
        // they cost twice the build (benchmark: 2.7 s against 1.3 s at 1M rows). It is safe because a
        // build over duplicates fails while it scans the table (23505), before the new index accepts
        // any insert, and the failed build's invalid index is dropped. The pre-flight's verdict wins.
        const [checked, built] = await Promise.allSettled([preflight(database, plan), timed(() => build(database, plan, step))]);
        if (checked.status === 'rejected') throw checked.reason;
        if (built.status === 'rejected') throw built.reason;
        result.preflight = checked.value;
        result.buildMs = built.value;
        break;
      }
      case 'attach':
        result.attachMs = await timed(() => attach(database, plan, step));
        break;
      default:
        return step.purpose satisfies never;
    }
  }
  return result;
}

async function preflight(database: Database, plan: ConstraintAddPlan): Promise<{ rows: number; groups: number }> {
  const report = await scan(database, { table: plan.key.table, keys: [plan.key], top: 0 });
  const key = report.keys[0]!;
  if (key.groups > 0) {
    const clean = cleanCommandFor(plan.key, plan.commandLine);
    throw new DuplicatesBlockConstraintError(
      `${formatCount(key.groups)} duplicate group(s) (${formatCount(key.surplus)} surplus row(s)) under key ${plan.key.name} on ${plan.table}; ` +
        `a unique index cannot be built until they are removed: review the plan with ${clean}, then run it with --execute`,
      key.groups,
      key.surplus,
      clean,
    );
  }
  return { rows: report.rows, groups: key.groups };
}

async function build(database: Database, plan: ConstraintAddPlan, step: PlannedStep): Promise<void> {
  const schema = plan.key.table.info.schema;
  try {
    await runStep(database, step);
  } catch (error) {
    const cleanup = await dropIfInvalid(database, plan);
    if (sqlStateOf(error) === '23505') {
      // Count again with scan's statement, so the message has the same figures a scan would show now.
      const now = (await scan(database, { table: plan.key.table, keys: [plan.key], top: 0 })).keys[0]!;
      const clean = cleanCommandFor(plan.key, plan.commandLine);
      throw new DuplicatesBlockConstraintError(
        `${formatCount(now.groups)} duplicate group(s) (${formatCount(now.surplus)} surplus row(s)) under key ${plan.key.name} were written while "${plan.name}" ` +
          `was being built (${describeDatabaseError(error)}); ${cleanup === '' ? '' : `${cleanup}; `}remove them (review the plan with ${clean}, then run it with --execute) and retry`,
        now.groups,
        now.surplus,
        clean,
      );
    }
    if (cleanup === '') throw error;
    throw new DatabaseError(`building "${plan.name}" failed: ${describeDatabaseError(error)}; ${cleanup}`);
  }
  if ((await indexValidity(database.db, schema, plan.name)) !== true) {
    const cleanup = await dropIfInvalid(database, plan);
    throw new DatabaseError(`"${plan.name}" was built but is not valid${cleanup === '' ? '' : `; ${cleanup}`}`);
  }
}

/**
 * After a failed CREATE INDEX CONCURRENTLY the server keeps the index,
 * marked invalid. Returns what happened, for the error message. On a
 * partitioned table the parent's index (invalid until every partition's
 * is attached) goes with a plain DROP, taking the attached ones with it;
 * the partition indexes not yet attached are dropped one by one.
 */
async function dropIfInvalid(database: Database, plan: ConstraintAddPlan): Promise<string> {
  const schema = plan.key.table.info.schema;
  const partitioned = plan.partitions.length > 0;
  try {
    if ((await indexValidity(database.db, schema, plan.name)) !== false) return '';
    if (partitioned) {
      await runStep(database, {
        transaction: true,
        statements: [setLocalLockTimeoutStatement(plan.lockTimeout), dropIndexStatement(schema, plan.name, { concurrently: false })].map((query) =>
          planStatement(database, query),
        ),
      });
      await runStep(database, { transaction: false, statements: dropPartitionIndexStatements(database, plan.partitions) });
      return `the invalid index "${plan.name}" it left and the partition indexes built so far were dropped`;
    }
    await dropIndexStatement(schema, plan.name, { concurrently: plan.concurrently }).execute(database.db);
    return `the invalid index "${plan.name}" it left was dropped`;
  } catch (error) {
    return `the invalid index "${plan.name}" could NOT be dropped (${describeDatabaseError(error)}): run ${plan.dropSql} or rerun constraint add`;
  }
}

async function attach(database: Database, plan: ConstraintAddPlan, step: PlannedStep): Promise<void> {
  try {
    await runStep(database, step);
  } catch (error) {
    const kept = `the unique index "${plan.name}" is built, valid and already rejects duplicates; rerun constraint add to attach it`;
    if (sqlStateOf(error) === '55P03') {
      throw new LockHeldError(`ALTER TABLE could not lock ${plan.table} within lock_timeout ${plan.lockTimeout} (a long transaction holds it); ${kept}`);
    }
    throw new DatabaseError(`attaching "${plan.name}" as a constraint failed: ${describeDatabaseError(error)}; ${kept}`);
  }
}

async function timed(task: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await task();
  return Math.round(performance.now() - started);
}
