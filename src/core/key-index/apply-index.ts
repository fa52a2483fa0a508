import type { Database } from '../../db/database.js';
import { describeDatabaseError } from '../../db/database-error.js';
import { requireWritable } from '../../db/read-only.js';
import { indexValidity } from '../../db/unique-indexes.js';
import { DatabaseError, InterruptedError } from '../../errors.js';
import { watchLockWaits, type LockBlocker } from '../../db/lock-waits.js';
import { summarizeKey, type KeySummary } from '../../keys/key-summary.js';
import { pgDuration } from '../../sql/pg-duration.js';
import { DEFAULT_LOCK_TIMEOUT_MS } from '../constraint/options.js';
import { dropIndexWithin } from '../constraint/drop-index-within.js';
import { runStep } from '../constraint/sql-step.js';
import { requireTableOwner } from '../constraint/ownership.js';
import type { IndexAddPlan } from './plan-index.js';

export interface IndexAddResult {
  table: string;
  key: KeySummary;
  name: string;
  /** exists: a valid index led by the key's elements was there, nothing ran; planned: a dry run; created: built. */
  outcome: 'exists' | 'planned' | 'created';
  /** The index that serves the key already (outcome exists). */
  existing: string | null;
  elements: string[];
  concurrently: boolean;
  /** The statements in order (what a dry run would run, or what ran). */
  sql: string[];
  /** The invalid index of an earlier failed build that was dropped first (or would be, in a dry run). */
  droppedInvalid: string | null;
  buildMs: number | null;
}

/** Dry run unless `execute`: drops an invalid leftover, builds, checks the index is valid; a failed build leaves no invalid index behind. */
export async function applyIndexAdd(
  database: Database,
  plan: IndexAddPlan,
  execute: boolean,
  hooks: { stop?: AbortSignal; onLockWait?: (blockers: LockBlocker[]) => void } = {},
): Promise<IndexAddResult> {
  const { stop } = hooks;
  const result: IndexAddResult = {
    table: plan.table,
    key: summarizeKey(plan.key),
    name: plan.name,
    outcome: plan.existing !== null ? 'exists' : execute ? 'created' : 'planned',
    existing: plan.existing?.name ?? null,
    elements: plan.elements,
    concurrently: plan.concurrently,
    sql: plan.steps.flatMap((step) => step.statements.map((statement) => statement.sql)),
    droppedInvalid: plan.invalidLeftover ? plan.name : null,
    buildMs: null,
  };
  if (!execute || plan.existing !== null) return result;
  requireWritable(database);
  await requireTableOwner(database, plan.key.table, 'index add');
  // A CONCURRENTLY build waits for every transaction writing the table: the spinner says which (hooks.onLockWait).
  const watch = watchLockWaits(database, hooks.onLockWait);
  try {
    return await build(database, plan, result, stop);
  } finally {
    watch.stop();
  }
}

async function build(database: Database, plan: IndexAddPlan, result: IndexAddResult, stop: AbortSignal | undefined): Promise<IndexAddResult> {
  for (const step of plan.steps) {
    // After a signal (the running statement cancelled by the caller): drop what this run left invalid, say what is left.
    if (stop?.aborted) throw new InterruptedError(`the build of "${plan.name}" was stopped before it started; ${await dropIfInvalid(database, plan)}`);
    if (step.purpose === 'drop-invalid' || step.purpose === 'create-function') {
      await runStep(database, step, stop);
      continue;
    }
    const started = performance.now();
    try {
      await runStep(database, step, stop);
    } catch (error) {
      if (stop?.aborted) throw new InterruptedError(`the build of "${plan.name}" was cancelled; ${await dropIfInvalid(database, plan)}`);
      throw new DatabaseError(`building "${plan.name}" failed: ${describeDatabaseError(error)}; ${await dropIfInvalid(database, plan)}`);
    }
    if ((await indexValidity(database.db, plan.key.table.info.schema, plan.name)) !== true) {
      throw new DatabaseError(`"${plan.name}" was built but is not valid; ${await dropIfInvalid(database, plan)}`);
    }
    result.buildMs = Math.round(performance.now() - started);
  }
  if (stop?.aborted) throw new InterruptedError(`"${plan.name}" had already been built and is valid; it is in place, nothing to undo`);
  return result;
}

/** After a failed CREATE INDEX CONCURRENTLY the server keeps the index, marked invalid (and maintained on every write): drop it. */
async function dropIfInvalid(database: Database, plan: IndexAddPlan): Promise<string> {
  const schema = plan.key.table.info.schema;
  try {
    if ((await indexValidity(database.db, schema, plan.name)) !== false) return 'no index was left behind';
    await dropIndexWithin(database, schema, plan.name, { concurrently: plan.concurrently, lockTimeout: pgDuration(DEFAULT_LOCK_TIMEOUT_MS) });
    return `the invalid index "${plan.name}" it left was dropped`;
  } catch (error) {
    return `the invalid index "${plan.name}" could NOT be dropped (${describeDatabaseError(error)}): run ${plan.dropSql} or rerun index add`;
  }
}
