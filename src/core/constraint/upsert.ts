import { qualifiedName, requireColumn } from '../../db/catalog.js';
import type { Database } from '../../db/database.js';
import { isServerFilled } from '../../db/catalog.js';
import { listUniqueIndexes } from '../../db/unique-indexes.js';
import { UsageError } from '../../errors.js';
import type { ResolvedKey } from '../../keys/key-definition.js';
import { upsertStatement, type OnDuplicate } from '../../sql/upsert-plan.js';
import { keyCommand, type CommandLineContext } from '../../keys/key-command-line.js';
import { matchKeys } from './key-protection.js';
import { requireDistributionColumn } from './citus-rule.js';
import type { KeySettings } from '../../keys/resolve-key.js';
import { summarizeKey, type KeySummary } from '../../keys/key-summary.js';

export interface UpsertOptions {
  key: ResolvedKey;
  onDuplicate: OnDuplicate;
  /** Default: every column but the id and those the server fills (identity, generated). */
  insertColumns?: string[];
  /** update only. Default: the inserted columns that are neither key, id nor created column. */
  updateColumns?: string[];
  /** Column map, normalisation and config keys, to list the keys a Citus distributed table can enforce when `key` is refused. */
  keySettings?: KeySettings;
  /** How the suggested `constraint add` reaches the same database; default: the same shell. */
  commandLine?: CommandLineContext;
}

export interface UpsertPlan {
  table: string;
  key: KeySummary;
  onDuplicate: OnDuplicate;
  /** Parameter $n is insertColumns[n - 1]. */
  insertColumns: string[];
  updateColumns: string[];
  sql: string;
  /** The valid unique constraints/indexes ON CONFLICT will infer as arbiter; empty: the statement fails until `constraint add` runs. */
  arbiters: string[];
  /**
   * Non-null when only a unique index on fewer of the key's columns protects
   * it: ON CONFLICT must name an arbiter's own columns, so the statement
   * targets these (that index's) columns, and a row equal to an existing one
   * on them counts as its duplicate whatever the key's other columns hold
   * (the index would reject it anyway).
   */
  conflictColumns: string[] | null;
  /** The `constraint add` that builds the arbiter this statement needs. */
  addCommand: string;
}

/** The INSERT … ON CONFLICT for the webhook, checked against the catalog; runs nothing. */
export async function planUpsert(database: Database, options: UpsertOptions): Promise<UpsertPlan> {
  const { key } = options;
  requireDistributionColumn(key, options.keySettings, 'sql upsert');
  const info = key.table.info;
  const keyColumns = key.columns.map((c) => c.column);
  const insertColumns = options.insertColumns
    ? inTableOrder(key, checkColumns(key, options.insertColumns, '--insert-columns'))
    : info.columns.filter((c) => c.name !== key.table.idColumn && !isServerFilled(c)).map((c) => c.name);
  const missing = keyColumns.filter((column) => !insertColumns.includes(column));
  if (missing.length > 0) throw new UsageError(`--insert-columns must include the key's columns; missing: ${missing.join(', ')}`);

  let updateColumns: string[] = [];
  if (options.onDuplicate === 'update') {
    const fixed = new Set([...keyColumns, key.table.idColumn, ...(key.table.createdColumn === null ? [] : [key.table.createdColumn])]);
    updateColumns = options.updateColumns ? checkColumns(key, options.updateColumns, '--update-columns') : insertColumns.filter((column) => !fixed.has(column));
    const refused = updateColumns.filter((column) => keyColumns.includes(column) || column === key.table.idColumn);
    if (refused.length > 0) throw new UsageError(`--update-columns cannot change the key or the id: ${refused.join(', ')}`);
    const notInserted = updateColumns.filter((column) => !insertColumns.includes(column));
    if (notInserted.length > 0)
      throw new UsageError(`--update-columns must be inserted too (excluded.<column> holds only inserted values): ${notInserted.join(', ')}`);
    if (updateColumns.length === 0) throw new UsageError('nothing to update: every inserted column is part of the key; use --on-duplicate skip');
  }

  const [match] = await matchKeys(database, key.table, [key], await listUniqueIndexes(database, info.oid));
  const smaller = match!.protecting.length === 0 ? (match!.impliedBy[0] ?? null) : null;
  const arbiters = (smaller === null ? match!.protecting : [smaller]).map((index) => index.name);
  // The key's columns whose index element the smaller index holds: its conflict target in the key's own SQL.
  const form = smaller === null ? null : (match!.forms.find((elements) => smaller.elements.every((element) => elements.includes(element))) ?? match!.elements);
  const target = smaller === null ? key : { ...key, columns: key.columns.filter((_, index) => smaller.elements.includes(form![index]!)) };
  // The short function form, unless an index built by an earlier version (the inline expression) is all there is
  // and the function is not: then the statement must name the expression (ON CONFLICT infers either form).
  const functionsReady = match!.functions.every((f) => f.state === 'same');
  const conflictForm = functionsReady || arbiters.length === 0 ? 'function' : 'inline';
  return {
    table: qualifiedName(info),
    key: summarizeKey(key),
    onDuplicate: options.onDuplicate,
    insertColumns,
    updateColumns,
    sql: upsertStatement(target, { onDuplicate: options.onDuplicate, insertColumns, updateColumns, conflictForm }).compile(database.db).sql,
    arbiters,
    conflictColumns: smaller === null ? null : target.columns.map((column) => column.column),
    addCommand: keyCommand(key, ['constraint', 'add'], [], options.commandLine),
  };
}

function checkColumns(key: ResolvedKey, columns: string[], flag: string): string[] {
  if (columns.length === 0) throw new UsageError(`${flag} needs at least one column`);
  if (new Set(columns).size !== columns.length) throw new UsageError(`${flag} names a column twice`);
  return columns.map((column) => requireColumn(key.table.info, column, `${flag}: column`).name);
}

function inTableOrder(key: ResolvedKey, columns: string[]): string[] {
  return key.table.info.columns.map((c) => c.name).filter((name) => columns.includes(name));
}
