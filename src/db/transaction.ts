import { sql, type RawBuilder } from 'kysely';
import type { Db } from './database.js';
import { verifySession } from './session-guard.js';

/** BEGIN of a read-only transaction that reads one snapshot from its first statement to its end. */
export const BEGIN_READ_ONLY_SNAPSHOT = sql`begin transaction isolation level repeatable read read only`;

/**
 * How a transaction opens: BEGIN, or BEGIN and the statements that must come
 * before its first query (SET TRANSACTION SNAPSHOT).
 */
export type TransactionStart = RawBuilder<unknown> | readonly RawBuilder<unknown>[];

/**
 * BEGIN (or the given start), run, COMMIT; ROLLBACK and rethrow on any
 * error. On a connection pinned with `db.connection()`: temp tables,
 * cursors and advisory locks are per session, so every statement must use
 * the same one; the first query checks it does (session-guard.ts: behind a
 * transaction-mode pooler it may not), before any of `work`.
 */
export async function inTransaction<T>(connection: Db, work: () => Promise<T>, begin: TransactionStart = sql`begin`): Promise<T> {
  const [first, ...rest] = statementsOf(begin);
  await first!.execute(connection);
  try {
    for (const statement of rest) await statement.execute(connection);
    await verifySession(connection);
    const result = await work();
    await sql`commit`.execute(connection);
    return result;
  } catch (error) {
    await sql`rollback`.execute(connection).catch(() => undefined);
    throw error;
  }
}

/** Like inTransaction, but always rolls back: the dry runs rehearse the real statements and keep nothing. */
export async function rehearse<T>(connection: Db, work: () => Promise<T>): Promise<T> {
  await sql`begin`.execute(connection);
  try {
    await verifySession(connection);
    return await work();
  } finally {
    await sql`rollback`.execute(connection).catch(() => undefined);
  }
}

/** Ends whatever transaction the session is in (a no-op outside one); for a session a cancelled statement left aborted. */
export async function rollback(connection: Db): Promise<void> {
  await sql`rollback`.execute(connection);
}

function statementsOf(start: TransactionStart): readonly RawBuilder<unknown>[] {
  return Array.isArray(start) ? start : [start as RawBuilder<unknown>];
}
