import { qualifiedName } from '../../db/catalog.js';
import type { Database } from '../../db/database.js';
import { findNameOwner, listUniqueIndexes, type NameOwner, type UniqueIndexInfo } from '../../db/unique-indexes.js';
import { UsageError } from '../../errors.js';
import type { ResolvedKey } from '../../keys/key-definition.js';
import { keyCommand, SAME_SHELL, tableCommand, type CommandLineContext } from '../../keys/key-command-line.js';
import {
  attachConstraintStatement,
  createUniqueIndexStatement,
  defaultIndexName,
  dropIndexStatement,
  isPlainKey,
  setLocalLockTimeoutStatement,
} from '../../sql/constraint-plan.js';
import { matchKeys } from './key-protection.js';
import { createFunctionsStep } from './function-step.js';
import { requireDistributionColumn, requireNoCoordinatorLeftover } from './citus-rule.js';
import type { KeySettings } from '../../keys/resolve-key.js';
import { checkIndexName, checkNullsEqualSupported, DEFAULT_LOCK_TIMEOUT_MS } from './options.js';
import { pgDuration } from '../../sql/pg-duration.js';
import { planStatement, type SqlStep } from './sql-step.js';
import { partitionTree } from '../../db/partitions.js';
import { checkPartitionKey, dropPartitionIndexStatements, partitionedBuildStatements, planPartitionIndexes, type PartitionIndex } from './plan-partitions.js';

export interface ConstraintAddOptions {
  key: ResolvedKey;
  /** Index (and constraint) name; default like `leads_device_id_phone_key`. */
  name?: string;
  /** lock_timeout for the ALTER TABLE that attaches the index; default 5s. */
  /** lock_timeout of the final ALTER TABLE, in ms (default 5 s). */
  lockTimeoutMs?: number;
  /** Build the key's own index even when a unique index on fewer of its columns already rejects its duplicates (e.g. for an ON CONFLICT on exactly the key). */
  evenIfImplied?: boolean;
  /** Column map, normalisation and config keys, to list the keys a Citus distributed table can enforce when `key` is refused (default: the presets as they are). */
  keySettings?: KeySettings;
  /** How the commands this plan suggests (the scan, the clean) reach the same database; default: the same shell. */
  commandLine?: CommandLineContext;
  /**
   * Plan a migration file for another database (`--migration`): this name's
   * own index here (built, invalid or attached) is ignored, the build is
   * CONCURRENTLY whatever the driver, and the invalid-leftover drop is always
   * planned, since the database the file runs on may hold one.
   */
  forMigration?: boolean;
}

/**
 * A plain-column key becomes a table constraint; a normalised key can only be
 * a unique expression index; on a partitioned table the unique index on the
 * parent (with one per partition attached) is the protection: PostgreSQL
 * does not support ADD CONSTRAINT … USING INDEX there, and ON CONFLICT
 * infers the index as its arbiter all the same.
 */
export type ConstraintKind = 'constraint' | 'expression-index' | 'partitioned-index';

/** create-function: the rule functions a normalised key's index calls (function-step.ts). */
export type StepPurpose = 'drop-invalid' | 'create-function' | 'build' | 'attach';

export interface PlannedStep extends SqlStep {
  purpose: StepPurpose;
}

export interface ConstraintAddPlan {
  /** schema-qualified */
  table: string;
  key: ResolvedKey;
  name: string;
  kind: ConstraintKind;
  /** false on embedded PGlite: one connection, so a plain CREATE UNIQUE INDEX. */
  concurrently: boolean;
  lockTimeout: string;
  /** An equivalent valid unique constraint or index: nothing to do. */
  existing: UniqueIndexInfo | null;
  /** A valid unique index on fewer of the key's columns, which already rejects its duplicates: nothing to build (unless evenIfImplied). */
  impliedBy: UniqueIndexInfo | null;
  /** An invalid index by this name on this table, left by an earlier failed or interrupted build: dropped first. */
  invalidLeftover: boolean;
  /** This name's valid index is built but not yet a constraint (e.g. the ALTER hit its lock timeout): only attach it. */
  resume: boolean;
  steps: PlannedStep[];
  /** The statement that removes this name's index after a failed build (shown by --print-sql). */
  dropSql: string;
  /** On a partitioned table built CONCURRENTLY: each partition's own index (empty otherwise). */
  partitions: PartitionIndex[];
  /** Unique indexes this build makes redundant, or that make it redundant: what each means for the webhook's ON CONFLICT. */
  overlapping: OverlappingIndex[];
  commandLine: CommandLineContext;
}

/**
 * A valid unique index whose elements contain the key's (`wider`: the new
 * index rejects all it rejects, so it becomes redundant) or are contained in
 * them (`narrower`, built anyway with --even-if-implied: it already rejects
 * the key's duplicates and more). Two such indexes are what issue 25 saw: a
 * webhook's ON CONFLICT names one and gets 23505 from the other.
 */
export interface OverlappingIndex {
  name: string;
  elements: string[];
  relation: 'wider' | 'narrower';
  /** The key's elements the wider index adds, or the narrower one lacks. */
  difference: string[];
  /** Removes the redundant one of the two (the wider index, or the narrower one when the key's own index is wanted). */
  dropCommand: string;
  /** Regenerates the webhook's statement for the key that remains. */
  upsertCommand: string;
}

/**
 * Reads the catalog and decides what `constraint add` would run; changes
 * nothing. Counting duplicates is the executor's job, and only after a
 * build failed on one (it scans the whole table), so --print-sql stays instant.
 */
export async function planConstraintAdd(database: Database, options: ConstraintAddOptions): Promise<ConstraintAddPlan> {
  const { key } = options;
  requireDistributionColumn(key, options.keySettings);
  requireNoCoordinatorLeftover(key);
  const commandLine = options.commandLine ?? SAME_SHELL;
  const table = key.table.info;
  checkNullsEqualSupported(key, database.features.serverVersionNum);
  const name = checkIndexName(options.name ?? defaultIndexName(key));
  const lockTimeout = pgDuration(options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS);
  const tree = await partitionTree(database.db, table.oid);
  if (tree !== null) checkPartitionKey(key, tree);
  const forMigration = options.forMigration === true;
  if (forMigration && tree !== null) {
    throw new UsageError(`${qualifiedName(table)} is partitioned: --migration does not write partitioned builds yet; run constraint add against the database`);
  }
  const kind: ConstraintKind = tree !== null ? 'partitioned-index' : isPlainKey(key) ? 'constraint' : 'expression-index';
  const concurrently = forMigration || database.features.driver === 'postgres';

  const indexes = await listUniqueIndexes(database, table.oid);
  const match = (await matchKeys(database, key.table, [key], indexes))[0]!;
  // A migration's own name here is the migration applied (or half applied) on this database, not a reason to write nothing.
  const protecting = forMigration ? match.protecting.filter((index) => index.name !== name && index.constraint !== name) : match.protecting;
  const constraint = protecting.find((index) => index.constraint !== null) ?? null;
  const ownIndex = protecting.find((index) => index.name === name && index.constraint === null) ?? null;
  const resume = !forMigration && kind === 'constraint' && constraint === null && ownIndex !== null;
  const existing = resume ? null : (constraint ?? protecting[0] ?? null);
  const impliedBy = existing === null && !resume && options.evenIfImplied !== true ? (match.impliedBy[0] ?? null) : null;
  const overlapping = existing === null && impliedBy === null ? overlappingIndexes(key, indexes, match.elements, commandLine) : [];
  const decided = { table: qualifiedName(table), key, name, kind, concurrently, lockTimeout, existing, impliedBy, resume, commandLine, overlapping };
  if (impliedBy !== null) return { ...decided, invalidLeftover: false, steps: [], dropSql: '', partitions: [] };

  let invalidLeftover = false;
  if (existing === null && !resume) {
    const owner = await findNameOwner(database.db, table.schema, name, table.oid);
    if (owner !== null) {
      const onThisTable = owner.kind === 'index' && owner.onTable === qualifiedName(table);
      invalidLeftover = !forMigration && onThisTable && owner.valid === false;
      if (!invalidLeftover && !(forMigration && onThisTable)) {
        throw new UsageError(`the name "${name}" already belongs to ${describeOwner(owner, table.schema)}; choose another with --name`);
      }
    }
  }

  const compile = (query: Parameters<typeof planStatement>[1]) => planStatement(database, query);
  // A partitioned table on a server: CONCURRENTLY per partition (plan-partitions.ts). PGlite builds it in one plain statement.
  const partitioned = tree !== null && concurrently;
  const partitions = partitioned && existing === null ? await planPartitionIndexes(database, key, tree) : [];
  // A partitioned index cannot be dropped CONCURRENTLY: a plain DROP, under lock_timeout, in a transaction.
  const dropParent = partitioned
    ? {
        transaction: true,
        statements: [compile(setLocalLockTimeoutStatement(lockTimeout)), compile(dropIndexStatement(table.schema, name, { concurrently: false }))],
      }
    : { transaction: false, statements: [compile(dropIndexStatement(table.schema, name, { concurrently }))] };
  const steps: PlannedStep[] = [];
  if (existing === null) {
    if (invalidLeftover || forMigration) steps.push({ purpose: 'drop-invalid', ...dropParent });
    const leftovers = partitions.filter((partition) => partition.leftover);
    if (leftovers.length > 0) steps.push({ purpose: 'drop-invalid', transaction: false, statements: dropPartitionIndexStatements(database, leftovers) });
    const functions = createFunctionsStep(database, key, match.functions, { forMigration });
    if (functions !== null && !resume) steps.push({ purpose: 'create-function', ...functions });
    if (!resume) {
      const build = partitioned
        ? partitionedBuildStatements(database, key, name, tree, partitions)
        : [compile(createUniqueIndexStatement(key, name, { concurrently }))];
      steps.push({ purpose: 'build', transaction: false, statements: build });
    }
    if (kind === 'constraint') {
      steps.push({
        purpose: 'attach',
        transaction: true,
        statements: [compile(setLocalLockTimeoutStatement(lockTimeout)), compile(attachConstraintStatement(key.table, name))],
      });
    }
  }
  const dropSql = [...dropParent.statements.slice(-1), ...dropPartitionIndexStatements(database, partitions)].map((statement) => statement.sql).join('; ');
  return { ...decided, invalidLeftover, steps, dropSql, partitions };
}

function overlappingIndexes(key: ResolvedKey, indexes: UniqueIndexInfo[], elements: string[], commandLine: CommandLineContext): OverlappingIndex[] {
  const upsertCommand = keyCommand(key, ['sql', 'upsert'], ['--on-duplicate', 'skip'], commandLine);
  return indexes
    .filter((index) => index.valid && index.kind !== 'primary key' && index.predicate === null)
    .flatMap((index): OverlappingIndex[] => {
      const dropCommand = tableCommand(key.table, ['constraint', 'drop', index.constraint ?? index.name], ['--execute'], commandLine);
      const within = index.elements.every((element) => elements.includes(element));
      const contains = elements.every((element) => index.elements.includes(element));
      if (contains && index.elements.length > elements.length) {
        return [
          {
            name: index.name,
            elements: index.elements,
            relation: 'wider',
            difference: index.elements.filter((e) => !elements.includes(e)),
            dropCommand,
            upsertCommand,
          },
        ];
      }
      if (within && index.elements.length < elements.length) {
        return [
          {
            name: index.name,
            elements: index.elements,
            relation: 'narrower',
            difference: elements.filter((e) => !index.elements.includes(e)),
            dropCommand,
            upsertCommand,
          },
        ];
      }
      return [];
    });
}

function describeOwner(owner: NameOwner, schema: string): string {
  if (owner.kind === 'constraint') return 'another constraint on this table';
  if (owner.kind === 'index') return `an index on ${owner.onTable ?? 'another table'} that does not enforce this key`;
  return `a ${owner.kind} in schema ${schema}`;
}
