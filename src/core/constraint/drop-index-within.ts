import type { Database } from '../../db/database.js';
import { dropIndexStatement, setSessionLockTimeoutStatement } from '../../sql/constraint-plan.js';

/**
 * Drops this run's index (IF EXISTS; CONCURRENTLY on a server) under
 * `lockTimeout`, on one session, then puts that session's lock_timeout back.
 * DROP INDEX CONCURRENTLY waits for every transaction that has the table
 * open: after a build cancelled because such a transaction blocked it, an
 * unbounded wait would hang the command; this fails with 55P03 instead,
 * and the caller says how to drop it later.
 */
export async function dropIndexWithin(
  database: Database,
  schema: string,
  name: string,
  options: { concurrently: boolean; lockTimeout: string },
): Promise<void> {
  await database.db.connection().execute(async (connection) => {
    const previous = (await setSessionLockTimeoutStatement(options.lockTimeout).execute(connection)).rows[0]?.previous ?? '0';
    try {
      await dropIndexStatement(schema, name, { concurrently: options.concurrently }).execute(connection);
    } finally {
      await setSessionLockTimeoutStatement(previous)
        .execute(connection)
        .catch(() => undefined);
    }
  });
}
