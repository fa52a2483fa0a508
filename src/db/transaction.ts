import { sql, type RawBuilder } from 'kysely';
import type { Db } from './database.js';

/** BEGIN of a read-only transaction that reads one snapshot from its first statement to its end. */
export const BEGIN_READ_ONLY_SNAPSHOT = sql`begin transaction isolation level repeatable read read only`;

/**
 * BEGIN (or the given begin statement), run, COMMIT; ROLLBACK and rethrow on
 * any error. On a connection pinned with `db.connection()`: temp tables,
 * cursors and advisory locks are per session, so every statement must use
 * the same one.
 */
export async function inTransaction<T>(connection: Db, work: () => Promise<T>, begin: RawBuilder<unknown> = sql`begin`): Promise<T> {
  await begin.execute(connection);
  try {
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
    return await work();
  } finally {
    await sql`rollback`.execute(connection).catch(() => undefined);
  }
}

/** Ends whatever transaction the session is in (a no-op outside one); for a session a cancelled statement left aborted. */
export async function rollback(connection: Db): Promise<void> {
  await sql`rollback`.execute(connection);
}
