import type { ColumnInfo } from '../../db/catalog.js';
import type { Db } from '../../db/database.js';
import type { ResolvedKey } from '../../keys/key-definition.js';
import { leadCountStatement, leadDeleteStatement } from '../../sql/upsert-client-plan.js';
import type { UpsertPlan } from '../constraint/upsert.js';

/** One $n of the statement: the column it fills and what the catalog says about it. */
export interface ClientParameter {
  column: string;
  /** format_type() of the column, e.g. "integer", "character varying(32)", "timestamp with time zone". */
  pgType: string;
  /** The column accepts NULL: the client's field is nullable. */
  nullable: boolean;
  /** Part of the key: the race test gives it a value unique to the run (a NULL never conflicts). */
  inKey: boolean;
}

/**
 * Everything a client generator needs, taken from the upsert plan and the
 * catalog; no language in it. The statement follows the upsert contract:
 * $1..$n in `parameters` order, exactly one row back with `id` and `outcome`
 * ('inserted' | 'updated' | 'existed').
 */
export interface UpsertClient {
  table: string;
  keyName: string;
  policy: string;
  statement: string;
  parameters: ClientParameter[];
  /** The id column's type, for the result's id field. */
  idType: string;
  /**
   * `sql upsert --retry-on-other-index` let the statement through although a
   * unique index other than the arbiter can reject a row (plan.retryOnIndexes):
   * the client retries that 23505 (a race with a deleted row resolves; a lasting
   * conflict surfaces after the retries). Off, a 23505 reaches the caller.
   */
  retryUniqueViolation: boolean;
  /** Race test only: counts the rows with one lead's key values ($1..$k in `keyParameters` order); deletes one by its id ($1). */
  countStatement: string;
  deleteStatement: string;
  /** Indexes into `parameters` of the key's columns, in key order. */
  keyParameters: number[];
  /** The command line that printed the statement, for the generated file's header. */
  generatedBy: string;
}

export interface UpsertClientOptions {
  plan: UpsertPlan;
  key: ResolvedKey;
  /** Compiles the race test's statements (no query runs). */
  db: Db;
  generatedBy: string;
}

/** Pure: the client description for a plan; runs nothing. */
export function upsertClient(options: UpsertClientOptions): UpsertClient {
  const { plan, key } = options;
  const columns = new Map(key.table.info.columns.map((column) => [column.name, column]));
  const info = (name: string): ColumnInfo => {
    const column = columns.get(name);
    if (column === undefined) throw new Error(`internal: column ${name} of the plan is not in the table`);
    return column;
  };
  const keyColumns = key.columns.map((c) => c.column);
  return {
    table: plan.table,
    keyName: plan.key.name,
    policy: plan.onDuplicate,
    statement: plan.sql,
    parameters: plan.insertColumns.map((name) => {
      const column = info(name);
      return { column: name, pgType: column.type, nullable: !column.notNull, inKey: keyColumns.includes(name) };
    }),
    idType: info(key.table.idColumn).type,
    retryUniqueViolation: plan.retryOnIndexes.length > 0,
    countStatement: leadCountStatement(key).compile(options.db).sql,
    deleteStatement: leadDeleteStatement(key).compile(options.db).sql,
    keyParameters: keyColumns.map((column) => plan.insertColumns.indexOf(column)),
    generatedBy: options.generatedBy,
  };
}
