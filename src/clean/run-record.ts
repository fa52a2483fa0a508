import type { Database, Db } from '../db/database.js';
import { rowNumber } from '../db/row-numbers.js';
import { qualifiedName } from '../db/catalog.js';
import { rollback } from '../db/transaction.js';
import { describeNormalize } from '../keys/key-summary.js';
import { finishRunStatement, insertRunStatement } from './sql/run-log-sql.js';
import type { CleanContext } from './context.js';
import type { RunStatus } from './types.js';
import { planRecord } from './plan-file/plan-run.js';

/** The run's row in the archive's run log: what was asked, so `runs` and `restore` can say it back. Returns the run id. */
export async function recordRunStart(connection: Db, context: CleanContext): Promise<number> {
  const { options, plan } = context;
  const { key } = options;
  const { rows } = await insertRunStatement(options.archiveSchema, {
    table: qualifiedName(key.table.info),
    schema: key.table.info.schema,
    relation: key.table.info.name,
    keyName: key.name,
    keyColumns: key.columns.map((c) => c.column),
    normalize: describeNormalize(key),
    nullsEqual: key.nullsEqual,
    keep: options.keep,
    mode: options.mode,
    options: {
      mergeRules: options.mergeRules,
      mergeColumns: context.mergeColumns.map((c) => `${c.name}=${c.rule}`),
      batchSize: options.batchSize,
      batchRows: options.batchRows,
      maxGroups: options.maxGroups,
      pauseMs: options.pauseMs,
      lockTimeoutMs: options.lockTimeoutMs,
      statementTimeoutMs: options.statementTimeoutMs,
      defaultCountry: key.defaultCountry,
      idColumn: key.table.idColumn,
      createdColumn: key.table.createdColumn,
      childReferences: context.references.map((r) => `${r.schema}.${r.table}.${r.column} (${r.constraint}, on delete ${r.onDelete})`),
      // `clean --plan`: which plan (its header's digest is its id), whether it was edited, and its header
      ...(plan?.loaded ? { plan: planRecord(plan.source, plan.loaded) } : {}),
    },
  }).execute(connection);
  return rowNumber(rows[0]?.id, 'id');
}

/** The run's own session (temp tables, advisory lock), and the database it belongs to (another session, on a server). */
export interface RunSession {
  database: Database;
  connection: Db;
}

/**
 * Marks the run finished. The cancel sent at a second signal can land on this
 * statement, or leave the session's transaction aborted: then roll back and
 * try again, and on a server try once more on another session (the batch's
 * row lock on the run record is gone with the rollback or the session).
 */
export async function recordRunFinish(
  { database, connection }: RunSession,
  { schema, runId, status, message }: { schema: string; runId: number; status: RunStatus; message: string | null },
): Promise<void> {
  const statement = finishRunStatement(schema, runId, status, message);
  try {
    await statement.execute(connection);
  } catch (error) {
    await rollback(connection).catch(() => undefined);
    try {
      await statement.execute(connection);
    } catch {
      if (database.features.driver !== 'postgres') throw error;
      await statement.execute(database.db);
    }
  }
}
