import type { Database } from '../../db/database.js';
import { indexValidity, type UniqueIndexInfo } from '../../db/unique-indexes.js';
import { DatabaseError, InterruptedError, LockHeldError } from '../../errors.js';
import { formatCount } from '../../util/format-count.js';
import { dropIndexStatement, setLocalLockTimeoutStatement } from '../../sql/constraint-plan.js';
import { dropPartitionIndexStatements } from './plan-partitions.js';
import { scan } from '../../scan/scan.js';
import { cleanCommandFor, passwordNote } from '../../keys/key-command-line.js';
import { describeDatabaseError, sqlStateOf } from '../../db/database-error.js';
import { DuplicatesBlockConstraintError } from './errors.js';
import { planStatement, runStep } from './sql-step.js';
import { dropIndexWithin } from './drop-index-within.js';
import { requireWritable } from '../../db/read-only.js';
import { requireTableOwner } from './ownership.js';
import { describeBlockers, watchLockWaits, type LockBlocker, type LockWatch } from '../../db/lock-waits.js';
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
  buildMs: number | null;
  attachMs: number | null;
  /** Partitions that got their own index built CONCURRENTLY and attached (0 unless the table is partitioned). */
  partitions: number;
}

/** Plans and runs `constraint add`: the programmatic API behind the CLI. */
export async function addConstraint(database: Database, options: ConstraintAddOptions, hooks: BuildHooks = {}): Promise<ConstraintAddResult> {
  return applyConstraintAdd(database, await planConstraintAdd(database, options), hooks);
}

export interface BuildHooks {
  /**
   * Aborted by the first SIGINT/SIGTERM, after the caller cancelled the
   * running statement (Database.cancel): no further step starts, what this
   * run left invalid is dropped, and an InterruptedError says what is left.
   */
  stop?: AbortSignal;
  /** While a step waits on a lock: the sessions holding it, polled about once a second; [] once it no longer waits. */
  onLockWait?: (blockers: LockBlocker[]) => void;
}

/**
 * Runs a plan: drop an invalid leftover, build, verify, attach. The build
 * comes first and duplicates are counted only when it fails on one (23505):
 * a unique build over duplicates fails while it scans the table, before
 * the new index accepts any insert, so the success path pays nothing for
 * the check and the failure path refuses with scan's count (exit 3). A
 * failed build never leaves its invalid index behind.
 */
export async function applyConstraintAdd(database: Database, plan: ConstraintAddPlan, hooks: BuildHooks = {}): Promise<ConstraintAddResult> {
  const { stop } = hooks;
  requireWritable(database);
  if (plan.steps.length > 0) await requireTableOwner(database, plan.key.table, 'constraint add');
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
    buildMs: null,
    attachMs: null,
    partitions: plan.partitions.length,
  };
  const done = { built: false };
  const watch = watchLockWaits(database, hooks.onLockWait);
  try {
    for (const step of plan.steps) {
      if (stop?.aborted) throw new InterruptedError('stopped by a signal');
      switch (step.purpose) {
        case 'drop-invalid':
          // Dropped before the build: an invalid unique index is still maintained on every write and may reject inserts.
          await runStep(database, step, stop);
          result.droppedInvalid = plan.name;
          break;
        case 'create-function':
          await runStep(database, step, stop);
          break;
        case 'build':
          result.buildMs = await timed(() => build(database, plan, step, stop));
          done.built = true;
          break;
        case 'attach':
          result.attachMs = await timed(() => attach(database, plan, step, stop, watch));
          break;
        default:
          return step.purpose satisfies never;
      }
    }
  } catch (error) {
    if (stop?.aborted) throw await stoppedDuring(database, plan, done.built || plan.resume);
    throw error;
  } finally {
    watch.stop();
  }
  if (stop?.aborted && plan.steps.length > 0)
    throw new InterruptedError(`"${plan.name}" had already been built${plan.kind === 'constraint' ? ' and attached' : ''}; it is in place, nothing to undo`);
  return result;
}

/**
 * What a signal left: before the build finished, the cancelled build's
 * invalid index (only this run's name) dropped; after, the valid index,
 * which already rejects duplicates, not yet attached as a constraint.
 */
async function stoppedDuring(database: Database, plan: ConstraintAddPlan, built: boolean): Promise<InterruptedError> {
  const valid = await indexValidity(database.db, plan.key.table.info.schema, plan.name).catch(() => null);
  if (built || valid === true) {
    return new InterruptedError(
      `the unique index "${plan.name}" had already been built and is valid (it rejects duplicates already) but is not attached as a constraint: rerun constraint add to attach it, or remove it with ${plan.dropSql}`,
    );
  }
  const cleanup = await dropIfInvalid(database, plan);
  const left = cleanup.kind === 'dropped' ? `${cleanup.text}; nothing is left` : cleanup.kind === 'none' ? 'no index was left' : cleanup.text;
  return new InterruptedError(`the build of "${plan.name}" was cancelled; ${left}`);
}

/** The refusal when duplicates remain, with the figures scan shows (exit 3); the clean dry run is printed on a line of its own. */
export function duplicatesRemain(plan: ConstraintAddPlan, groups: number, surplus: number, cleanup: CleanupOutcome): DuplicatesBlockConstraintError {
  const clean = cleanCommandFor(plan.key, plan.commandLine);
  return new DuplicatesBlockConstraintError(
    `${formatCount(groups)} duplicate group(s) (${formatCount(surplus)} surplus row(s)) under key ${plan.key.name} on ${plan.table}; ` +
      'a unique index cannot be built until they are removed' +
      (cleanup.kind === 'failed' ? `; ${cleanup.text}` : '') +
      `; ${passwordNote('review the plan with the clean dry run below', plan.commandLine)}, then run it with --execute`,
    { table: plan.table, key: plan.key.name, index: plan.name, groups, surplus },
    clean,
  );
}

async function build(database: Database, plan: ConstraintAddPlan, step: PlannedStep, stop: AbortSignal | undefined): Promise<void> {
  const schema = plan.key.table.info.schema;
  try {
    await runStep(database, step, stop);
  } catch (error) {
    if (stop?.aborted) throw error; // stoppedDuring drops what is left and says so
    const cleanup = await dropIfInvalid(database, plan);
    if (sqlStateOf(error) === '23505') {
      // Counted with scan's statement, after the failed build is gone, so the message has the figures a scan shows now.
      const now = (await scan(database, { table: plan.key.table, keys: [plan.key], top: 0 })).keys[0]!;
      if (now.groups > 0) throw duplicatesRemain(plan, now.groups, now.surplus, cleanup);
      // The duplicate that failed the build is gone again (written and removed while it ran).
      const clean = cleanCommandFor(plan.key, plan.commandLine);
      throw new DuplicatesBlockConstraintError(
        `a duplicate under key ${plan.key.name} was written while "${plan.name}" was being built and is gone again (${describeDatabaseError(error)}); ` +
          `${cleanup.kind === 'none' ? '' : `${cleanup.text}; `}retry; if it recurs, check the plan with the clean dry run below`,
        { table: plan.table, key: plan.key.name, index: plan.name, groups: 0, surplus: 0 },
        clean,
      );
    }
    if (cleanup.kind === 'none') throw error;
    throw new DatabaseError(`building "${plan.name}" failed: ${describeDatabaseError(error)}; ${cleanup.text}`);
  }
  if ((await indexValidity(database.db, schema, plan.name)) !== true) {
    const cleanup = await dropIfInvalid(database, plan);
    throw new DatabaseError(`"${plan.name}" was built but is not valid${cleanup.kind === 'none' ? '' : `; ${cleanup.text}`}`);
  }
}

/** What became of a failed build's invalid index; `text` goes into the error message. */
export type CleanupOutcome = { kind: 'none'; text: '' } | { kind: 'dropped' | 'failed'; text: string };

/**
 * After a failed CREATE INDEX CONCURRENTLY the server keeps the index,
 * marked invalid. Returns what happened, for the error message. On a
 * partitioned table the parent's index (invalid until every partition's
 * is attached) goes with a plain DROP, taking the attached ones with it;
 * the partition indexes not yet attached are dropped one by one.
 */
async function dropIfInvalid(database: Database, plan: ConstraintAddPlan): Promise<CleanupOutcome> {
  const schema = plan.key.table.info.schema;
  const partitioned = plan.partitions.length > 0;
  try {
    if ((await indexValidity(database.db, schema, plan.name)) !== false) return { kind: 'none', text: '' };
    if (partitioned) {
      await runStep(database, {
        transaction: true,
        statements: [setLocalLockTimeoutStatement(plan.lockTimeout), dropIndexStatement(schema, plan.name, { concurrently: false })].map((query) =>
          planStatement(database, query),
        ),
      });
      await runStep(database, { transaction: false, statements: dropPartitionIndexStatements(database, plan.partitions) });
      return { kind: 'dropped', text: `the invalid index "${plan.name}" it left and the partition indexes built so far were dropped` };
    }
    await dropIndexWithin(database, schema, plan.name, { concurrently: plan.concurrently, lockTimeout: plan.lockTimeout });
    return { kind: 'dropped', text: `the invalid index "${plan.name}" it left was dropped` };
  } catch (error) {
    return {
      kind: 'failed',
      text: `the invalid index "${plan.name}" could NOT be dropped (${describeDatabaseError(error)}): run ${plan.dropSql} or rerun constraint add`,
    };
  }
}

async function attach(database: Database, plan: ConstraintAddPlan, step: PlannedStep, stop: AbortSignal | undefined, watch: LockWatch): Promise<void> {
  try {
    await runStep(database, step, stop);
  } catch (error) {
    if (stop?.aborted) throw error;
    const kept = `the unique index "${plan.name}" is built, valid and already rejects duplicates; rerun constraint add to attach it`;
    if (sqlStateOf(error) === '55P03') {
      const held = watch.last();
      const holder = held.length > 0 ? `held by ${describeBlockers(held)}` : 'a long transaction holds it';
      throw new LockHeldError(`ALTER TABLE could not lock ${plan.table} within lock_timeout ${plan.lockTimeout} (${holder}); ${kept}`, {
        table: plan.table,
        lockTimeout: plan.lockTimeout,
      });
    }
    throw new DatabaseError(`attaching "${plan.name}" as a constraint failed: ${describeDatabaseError(error)}; ${kept}`);
  }
}

async function timed(task: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await task();
  return Math.round(performance.now() - started);
}
