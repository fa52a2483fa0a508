import { qualifiedName } from '../../db/catalog.js';
import type { Database } from '../../db/database.js';
import { partitionTree } from '../../db/partitions.js';
import { listTableIndexes, type TableIndexInfo } from '../../db/table-indexes.js';
import { findNameOwner } from '../../db/unique-indexes.js';
import { UsageError } from '../../errors.js';
import type { ResolvedKey } from '../../keys/key-definition.js';
import { createKeyIndexStatement, defaultKeyIndexName, dropIndexStatement } from '../../sql/constraint-plan.js';
import { checkIndexName } from '../constraint/options.js';
import { planStatement, type SqlStep } from '../constraint/sql-step.js';
import { keyIndexElements, servesKeyForms } from '../incremental/key-index.js';
import { createFunctionsStep } from '../constraint/function-step.js';

export interface IndexAddOptions {
  key: ResolvedKey;
  /** Index name; default like `leads_device_id_phone_idx`. */
  name?: string;
}

export interface IndexPlanStep extends SqlStep {
  /** create-function: the rule functions a normalised key's index calls (constraint/function-step.ts). */
  purpose: 'drop-invalid' | 'create-function' | 'build';
}

export interface IndexAddPlan {
  /** schema-qualified */
  table: string;
  key: ResolvedKey;
  name: string;
  /** The key's elements as pg_get_indexdef prints them. */
  elements: string[];
  /** false on embedded PGlite: one connection, so a plain CREATE INDEX. */
  concurrently: boolean;
  /** A valid index led by exactly the key's elements (a unique one from constraint add counts): nothing to build. */
  existing: TableIndexInfo | null;
  /** An invalid index by this name on this table, left by a failed or interrupted build: dropped first. */
  invalidLeftover: boolean;
  steps: IndexPlanStep[];
  /** What removes a half-built index by hand (shown by --print-sql). */
  dropSql: string;
}

/**
 * Reads the catalog and decides what `index add` would run; changes
 * nothing. The same key model, elements, name checks and leftover
 * handling as `constraint add`, for a plain (non-unique) index.
 */
export async function planIndexAdd(database: Database, options: IndexAddOptions): Promise<IndexAddPlan> {
  const { key } = options;
  const table = key.table.info;
  if ((await partitionTree(database.db, table.oid)) !== null) {
    throw new UsageError(
      `${qualifiedName(table)} is partitioned: CREATE INDEX CONCURRENTLY refuses a partitioned table, and a plain build would block writes; build the index on each partition instead`,
    );
  }
  const name = checkIndexName(options.name ?? defaultKeyIndexName(key));
  const concurrently = database.features.driver === 'postgres';
  const [forms] = await keyIndexElements(database, key.table, [key]);
  const indexes = await listTableIndexes(database, table.oid);
  const existing = indexes.find((index) => servesKeyForms(index, forms!)) ?? null;
  let invalidLeftover = false;
  if (existing === null) {
    const owner = await findNameOwner(database.db, table.schema, name, table.oid);
    if (owner !== null) {
      invalidLeftover = owner.kind === 'index' && owner.onTable === qualifiedName(table) && owner.valid === false;
      if (!invalidLeftover)
        throw new UsageError(`the name "${name}" already belongs to ${describeOwner(owner.kind, owner.onTable)}; choose another with --name`);
    }
  }
  const compile = (query: Parameters<typeof planStatement>[1]) => planStatement(database, query);
  const drop = compile(dropIndexStatement(table.schema, name, { concurrently }));
  const steps: IndexPlanStep[] = [];
  if (existing === null) {
    if (invalidLeftover) steps.push({ purpose: 'drop-invalid', transaction: false, statements: [drop] });
    const functions = createFunctionsStep(database, key, forms!.functions);
    if (functions !== null) steps.push({ purpose: 'create-function', ...functions });
    steps.push({ purpose: 'build', transaction: false, statements: [compile(createKeyIndexStatement(key, name, { concurrently }))] });
  }
  return { table: qualifiedName(table), key, name, elements: forms!.elements, concurrently, existing, invalidLeftover, steps, dropSql: drop.sql };
}

function describeOwner(kind: string, onTable: string | null): string {
  if (kind === 'constraint') return 'a constraint on this table';
  if (kind === 'index') return `an index on ${onTable ?? 'another table'} that does not serve this key`;
  return `a ${kind} in this schema`;
}
