import { findColumn, qualifiedName, isServerFilled, type ColumnInfo } from '../../db/catalog.js';
import type { Database } from '../../db/database.js';
import { listUniqueIndexes, type UniqueIndexInfo } from '../../db/unique-indexes.js';
import { UsageError } from '../../errors.js';
import type { ResolvedKey } from '../../keys/key-definition.js';
import { explainStatement, upsertStatement, type RetryPolicy, type UpsertOutcome } from '../../sql/upsert-plan.js';
import { changedColumns, checkColumns, outcomesOf, policyAction } from './upsert-policy.js';
import { keyCommand, tableCommand, type CommandLineContext } from '../../keys/key-command-line.js';
import { matchKeys } from './key-protection.js';
import { partitionTree } from '../../db/partitions.js';
import { CompiledQuery } from 'kysely';
import { firstLineOf, sqlStateOf } from '../../db/database-error.js';
import { requireDistributionColumn } from './citus-rule.js';
import type { KeySettings } from '../../keys/resolve-key.js';
import { summarizeKey, type KeySummary } from '../../keys/key-summary.js';
import { chooseArbiter, type ArbiterChoice } from './upsert-arbiter.js';

export interface UpsertOptions {
  key: ResolvedKey;
  /** The retry policy (what a duplicate does to the stored lead). */
  onDuplicate: RetryPolicy;
  /** Default: every column but the id and those the server fills (identity, generated). */
  insertColumns?: string[];
  /** fill, overwrite, newer. Default: the inserted columns that are neither key, id, created column nor a policy column. */
  updateColumns?: string[];
  /** touch: timestamp columns (set to now(), or to the retry's value when inserted) and integer counters (+1). */
  touchColumns?: string[];
  /** newer: the timestamp column compared; the retry's values win only when it is later. */
  newerColumn?: string;
  /** Generate even when another unique index can reject a row the arbiter accepts; the client retries a 23505 on it. */
  retryOnOtherIndex?: boolean;
  /** Refuse (exit 2) when no unique index enforces the key yet, instead of a warning. */
  requireIndex?: boolean;
  /** Column map, normalisation and config keys, to list the keys a Citus distributed table can enforce when `key` is refused. */
  keySettings?: KeySettings;
  /** How the suggested commands reach the same database; default: the same shell. */
  commandLine?: CommandLineContext;
}

export interface UpsertPlan {
  table: string;
  key: KeySummary;
  onDuplicate: RetryPolicy;
  /** Parameter $n is insertColumns[n - 1]. */
  insertColumns: string[];
  /** Columns a duplicate may change (fill, overwrite, newer: the values; touch: the bumped columns; skip: none). */
  updateColumns: string[];
  /** touch: the timestamp and counter columns; newer: the compared column. */
  touchColumns: string[];
  newerColumn: string | null;
  /**
   * The statement. It always returns exactly one row, columns `id` (the
   * lead's id) and `outcome`, one of `outcomes`.
   */
  sql: string;
  /** The outcomes this policy can return ('updated' only for update policies, 'existed' for all but touch). */
  outcomes: UpsertOutcome[];
  /** The valid unique index ON CONFLICT … DO UPDATE arbitrates on; empty: the statement fails until `constraint add` runs. */
  arbiters: string[];
  /**
   * Non-null when the arbiter is a unique index on fewer of the key's
   * columns: ON CONFLICT names its columns, and a row equal to an existing
   * one on them counts as its duplicate whatever the key's other columns hold
   * (the index would reject it anyway).
   */
  conflictColumns: string[] | null;
  /** A partial arbiter's predicate, repeated in ON CONFLICT (null otherwise). */
  predicate: string | null;
  /**
   * Unique indexes that are redundant next to the arbiter (on more of its columns, so it rejects all they do):
   * the `constraint drop` that removes each.
   */
  redundant: { name: string; dropCommand: string }[];
  /**
   * Only with retryOnOtherIndex: the unique indexes other than the arbiter, whose 23505 reaches the caller; the
   * generated client retries it. A race resolves (a row moved by a concurrent update, or deleted); a lasting
   * conflict with another lead under an index that can reject a row the arbiter accepts surfaces after the retries.
   */
  retryOnIndexes: string[];
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
  const action = policyAction(key, options, insertColumns);

  const indexes = await listUniqueIndexes(database, info.oid);
  const [match] = await matchKeys(database, key.table, [key], indexes);
  const serverFilled = info.columns
    .filter((c) => !insertColumns.includes(c.name) && (c.name === key.table.idColumn || c.identity !== ''))
    .flatMap((c) => [c.name, `"${c.name.replace(/"/g, '""')}"`]);
  const choice = chooseArbiter({ match: match!, indexes, nullsEqual: key.nullsEqual, policy: action.policy === 'skip' ? 'skip' : 'update', serverFilled });
  const commandLine = options.commandLine;
  const addCommand = keyCommand(key, ['constraint', 'add'], [], commandLine);
  if (choice === null && options.requireIndex) {
    throw new UsageError(`no valid unique index enforces key ${key.name} on ${qualifiedName(info)}; build it first: ${addCommand}`);
  }
  const others = choice === null ? [] : [...choice.uncovered, ...choice.covered];
  if (choice !== null && others.length > 0 && !options.retryOnOtherIndex) throw otherIndexError(key, action.policy, choice, commandLine);

  const arbiter = choice?.arbiter ?? null;
  // The key's columns whose index element the arbiter holds, in the form the arbiter was built with (the rule's short
  // function, or an earlier version's inline expression): its conflict target in the key's own SQL.
  const form = arbiter === null ? match!.elements : (match!.forms.find((elements) => arbiter.elements.every((e) => elements.includes(e))) ?? match!.elements);
  const target = arbiter === null ? key : { ...key, columns: key.columns.filter((_, index) => arbiter.elements.includes(form[index]!)) };
  // The short function form, unless an index built by an earlier version (the inline expression) is all there is
  // and the function is not: then the statement must name the expression (ON CONFLICT infers either form).
  const conflictForm = arbiter === null || match!.functions.every((f) => f.state === 'same') ? 'function' : 'inline';
  const predicate = arbiter?.predicate ?? null;
  const writable = (name: string) => findColumn(info, name)?.identity !== 'a';
  const keep = [...target.columns.map((c) => c.column), ...insertColumns].find(writable);
  const xmax = (await partitionTree(database.db, info.oid)) === null;
  const statement = upsertStatement(target, { action, insertColumns, predicate, xmax, keep, conflictForm }).compile(database.db).sql;
  if (arbiter !== null && predicate !== null) await requireInferred(database, statement, insertColumns.length, arbiter);
  return {
    table: qualifiedName(info),
    key: summarizeKey(key),
    onDuplicate: action.policy,
    insertColumns,
    updateColumns: changedColumns(action),
    touchColumns: action.policy === 'touch' ? [...action.timestamps.map((t) => t.column), ...action.counters] : [],
    newerColumn: action.policy === 'newer' ? action.column : null,
    sql: statement,
    outcomes: outcomesOf(action.policy),
    arbiters: arbiter === null ? [] : [arbiter.name],
    conflictColumns: choice?.relation === 'narrower' ? target.columns.map((column) => column.column) : null,
    predicate,
    redundant: (choice?.covered ?? [])
      .filter((index) => index.kind !== 'primary key' && index.elements.length > arbiter!.elements.length)
      .map((index) => ({ name: index.name, dropCommand: dropCommand(key, index, commandLine) })),
    retryOnIndexes: others.map((index) => index.name),
    addCommand,
  };
}

/**
 * A partial arbiter is inferred only when PostgreSQL can prove the repeated
 * predicate implies the index's: EXPLAIN (no ANALYZE: nothing runs, nothing
 * changes) plans the statement with NULL parameters and fails with 42P10
 * when it cannot.
 */
async function requireInferred(database: Database, statement: string, parameters: number, arbiter: UniqueIndexInfo): Promise<void> {
  try {
    await database.db.executeQuery(CompiledQuery.raw(explainStatement(statement), Array(parameters).fill(null)));
  } catch (error) {
    if (sqlStateOf(error) !== '42P10') throw error;
    throw new UsageError(
      `the partial unique index ${arbiter.name} (where ${arbiter.predicate}) cannot be named by ON CONFLICT with its predicate repeated (PostgreSQL: ${firstLineOf(error)}); ` +
        'enforce the key with a non-partial index (constraint add) or upsert on a key whose index is not partial',
    );
  }
}

/**
 * One line: which other unique index can raise 23505 in the webhook, why, and the ways out; the commands that take
 * them follow on lines of their own. An uncovered index is a lasting conflict; a covered one only a race.
 */
function otherIndexError(key: ResolvedKey, policy: RetryPolicy, choice: ArbiterChoice, commandLine: CommandLineContext | undefined): UsageError {
  const describe = (index: UniqueIndexInfo) => `${index.name} (${index.elements.join(', ')})${index.predicate === null ? '' : ` where ${index.predicate}`}`;
  const { uncovered, covered, arbiter } = choice;
  const deferrable = uncovered.filter((index) => !index.immediate);
  if (deferrable.length > 0) {
    return new UsageError(
      `sql upsert: ${deferrable.map(describe).join(', ')} is DEFERRABLE, which INSERT … ON CONFLICT cannot use; recreate it NOT DEFERRABLE or drop it with the command below`,
      [dropCommand(key, deferrable[0]!, commandLine)],
    );
  }
  const optIn = 'or opt in with --retry-on-other-index (the client retries a 23505 on it)';
  if (uncovered.length === 0) {
    return new UsageError(
      `sql upsert --on-duplicate ${policy}: unique ${covered.map(describe).join(', ')} rejects no row that ON CONFLICT on ${describe(arbiter)} accepts, ` +
        `yet raises 23505 in the webhook when a concurrent update moves the stored row while ON CONFLICT looks for it; drop it, it is redundant (the command below), ${optIn}`,
      covered.map((index) => dropCommand(key, index, commandLine)),
    );
  }
  const narrower = uncovered.find((index) => index.elements.every((element) => arbiter.elements.includes(element)));
  const narrowerCommand =
    narrower === undefined || !narrower.elements.every((e) => findColumn(key.table.info, unquote(e)) !== undefined)
      ? null
      : tableCommand(key.table, ['sql', 'upsert'], ['--key', narrower.elements.map(unquote).join(','), '--on-duplicate', policy], commandLine);
  const choices = [
    narrowerCommand === null ? 'drop it if redundant (the command below)' : 'drop it if redundant or pick the narrower key (the commands below)',
    optIn,
  ];
  return new UsageError(
    `sql upsert --on-duplicate ${policy}: unique ${uncovered.map(describe).join(', ')} can reject a row that ON CONFLICT on ${describe(arbiter)} accepts, ` +
      `raising 23505 in the webhook; ${choices.join('; ')}`,
    [...uncovered.map((index) => dropCommand(key, index, commandLine)), ...(narrowerCommand === null ? [] : [narrowerCommand])],
  );
}

function dropCommand(key: ResolvedKey, index: UniqueIndexInfo, commandLine: CommandLineContext | undefined): string {
  return tableCommand(key.table, ['constraint', 'drop', index.constraint ?? index.name], ['--execute'], commandLine);
}

/** A plain column element as pg_get_indexdef prints it ("order" quoted, phone bare) → its name. */
function unquote(element: string): string {
  return /^".*"$/.test(element) ? element.slice(1, -1).replace(/""/g, '"') : element;
}

function inTableOrder(key: ResolvedKey, columns: ColumnInfo[]): string[] {
  return key.table.info.columns.map((c) => c.name).filter((name) => columns.some((c) => c.name === name));
}
