import { qualifiedName } from '../../db/catalog.js';
import type { Database } from '../../db/database.js';
import { describeDatabaseError } from '../../db/database-error.js';
import { requireWritable } from '../../db/read-only.js';
import { listTableIndexes } from '../../db/table-indexes.js';
import { CatalogError, DatabaseError, UsageError } from '../../errors.js';
import type { ResolvedKey } from '../../keys/key-definition.js';
import { summarizeKey, type KeySummary } from '../../keys/key-summary.js';
import { defaultKeyIndexName, dropIndexStatement } from '../../sql/constraint-plan.js';
import { planStatement } from '../constraint/sql-step.js';
import { keyIndexElements, servesKeyForms } from '../incremental/key-index.js';

export interface IndexDropOptions {
  key: ResolvedKey;
  /** The index to drop; default the name `index add` gives (`leads_device_id_phone_idx`). */
  name?: string;
  execute: boolean;
}

export interface IndexDropResult {
  table: string;
  key: KeySummary;
  name: string;
  /** absent: no such index, nothing to do; planned: a dry run; dropped. */
  outcome: 'absent' | 'planned' | 'dropped';
  valid: boolean | null;
  concurrently: boolean;
  sql: string[];
  durationMs: number | null;
}

/**
 * Drops the plain index `index add` built for the key (CONCURRENTLY on a
 * server). Refuses a unique index or constraint (`constraint drop` removes
 * those: they enforce the key) and a valid index that does not serve the key.
 */
export async function dropKeyIndex(database: Database, options: IndexDropOptions): Promise<IndexDropResult> {
  const { key } = options;
  const table = key.table.info;
  const name = options.name ?? defaultKeyIndexName(key);
  const indexes = await listTableIndexes(database, table.oid);
  const target = indexes.find((index) => index.name === name);
  const concurrently = database.features.driver === 'postgres';
  const base = { table: qualifiedName(table), key: summarizeKey(key), name, concurrently, durationMs: null };
  if (target === undefined) return { ...base, outcome: 'absent', valid: null, sql: [] };
  if (target.unique || target.constraint !== null) {
    throw new UsageError(
      `"${name}" on ${qualifiedName(table)} is a unique ${target.constraint !== null ? 'constraint' : 'index'}: it enforces a key; lead-dedupe constraint drop ${name} removes it`,
    );
  }
  const [elements] = await keyIndexElements(database, key.table, [key]);
  if (target.valid && !servesKeyForms(target, elements!)) {
    throw new CatalogError(`"${name}" on ${qualifiedName(table)} is not an index on key ${key.name} (${target.definition}); nothing was dropped`);
  }
  const statement = planStatement(database, dropIndexStatement(table.schema, name, { concurrently }));
  if (!options.execute) return { ...base, outcome: 'planned', valid: target.valid, sql: [statement.sql] };
  requireWritable(database);
  const started = performance.now();
  try {
    await statement.query.execute(database.db);
  } catch (error) {
    throw new DatabaseError(`dropping "${name}" failed: ${describeDatabaseError(error)}`);
  }
  return { ...base, outcome: 'dropped', valid: target.valid, sql: [statement.sql], durationMs: Math.round(performance.now() - started) };
}
