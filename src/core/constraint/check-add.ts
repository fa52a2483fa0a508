import type { Database } from '../../db/database.js';
import type { UniqueIndexInfo } from '../../db/unique-indexes.js';
import { requireWritable } from '../../db/read-only.js';
import { summarizeKey, type KeySummary } from '../../keys/key-summary.js';
import { scan } from '../../scan/scan.js';
import { duplicatesRemain } from './apply-add.js';
import { requireTableOwner } from './ownership.js';
import type { ConstraintAddPlan, ConstraintKind, OverlappingIndex, PlannedStep, StepPurpose } from './plan-add.js';

/** What `constraint add` without --execute found: every check the build makes before its first change passed. */
export interface ConstraintAddCheck {
  table: string;
  key: KeySummary;
  name: string;
  kind: ConstraintKind;
  /** exists / implied: protected already, --execute would run nothing; planned: --execute would run `steps`. */
  outcome: 'exists' | 'implied' | 'planned';
  existing: UniqueIndexInfo | null;
  concurrently: boolean;
  lockTimeout: string;
  /** Rows scan counted under the key (0 duplicate groups among them); null when nothing would run. */
  rowsChecked: number | null;
  steps: CheckedStep[];
  overlapping: OverlappingIndex[];
}

export interface CheckedStep {
  purpose: StepPurpose;
  /** The lock it takes on the table, and what that means for writes. */
  lock: string;
  transaction: boolean;
  sql: string[];
}

/**
 * The dry run of `constraint add`: the checks --execute makes before its
 * first change (a writable server, the table's owner, no duplicates under
 * the key, counted with scan's statement), then the plan with the lock each
 * step takes. Reads only. Duplicates refuse as --execute would (exit 3),
 * so a dry run in a deploy script stops where the build would fail.
 */
export async function checkConstraintAdd(database: Database, plan: ConstraintAddPlan): Promise<ConstraintAddCheck> {
  requireWritable(database);
  const check: ConstraintAddCheck = {
    table: plan.table,
    key: summarizeKey(plan.key),
    name: plan.name,
    kind: plan.kind,
    outcome: plan.existing !== null ? 'exists' : plan.impliedBy !== null ? 'implied' : 'planned',
    existing: plan.existing ?? plan.impliedBy,
    concurrently: plan.concurrently,
    lockTimeout: plan.lockTimeout,
    rowsChecked: null,
    steps: plan.steps.map((step) => ({
      purpose: step.purpose,
      lock: stepLock(plan, step),
      transaction: step.transaction,
      sql: step.statements.map((statement) => statement.sql),
    })),
    overlapping: plan.overlapping,
  };
  if (plan.steps.length === 0) return check;
  await requireTableOwner(database, plan.key.table, 'constraint add');
  // A resumed attach needs no count: its valid unique index already proves there are none.
  if (plan.steps.some((step) => step.purpose === 'build')) {
    const counted = await scan(database, { table: plan.key.table, keys: [plan.key], top: 0 });
    const found = counted.keys[0]!;
    if (found.groups > 0) throw duplicatesRemain(plan, found.groups, found.surplus, { kind: 'none', text: '' });
    check.rowsChecked = counted.rows;
  }
  return check;
}

/** The lock a step takes on the table (PostgreSQL's lock levels), said in the dry run. */
function stepLock(plan: ConstraintAddPlan, step: PlannedStep): string {
  switch (step.purpose) {
    case 'drop-invalid':
      return plan.concurrently && plan.partitions.length === 0
        ? 'SHARE UPDATE EXCLUSIVE (DROP INDEX CONCURRENTLY): writes keep flowing'
        : `ACCESS EXCLUSIVE for a moment, lock_timeout ${plan.lockTimeout}`;
    case 'create-function':
      return 'none on the table (a function in lead-dedupe’s schema)';
    case 'build':
      if (plan.partitions.length > 0)
        return 'SHARE on the parent for a moment (its index on ONLY the parent is empty), then SHARE UPDATE EXCLUSIVE on each partition while its index builds: writes keep flowing';
      return plan.concurrently
        ? 'SHARE UPDATE EXCLUSIVE (CONCURRENTLY): writes keep flowing; it first waits for transactions already writing the table'
        : 'SHARE while it builds: writes wait (embedded PGlite has one connection, so no CONCURRENTLY)';
    case 'attach':
      return `ACCESS EXCLUSIVE for a moment (a catalog change), lock_timeout ${plan.lockTimeout}: gives up rather than queue writes behind a long transaction`;
    default:
      return step.purpose satisfies never;
  }
}
