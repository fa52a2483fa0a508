import { sql, type RawBuilder } from 'kysely';
import type { Db } from './database.js';
import { BEGIN_READ_ONLY_SNAPSHOT, inTransaction } from './transaction.js';

/**
 * Streams a query's rows in batches through a server-side cursor
 * (DECLARE … FETCH), so memory stays flat however many rows there are. The
 * same SQL works on a server and on PGlite. One FETCH is always ahead:
 * the connection queues it while `onBatch` handles the batch before. Runs in one read-only
 * REPEATABLE READ transaction: every batch comes from one snapshot. `setup`
 * runs first in that transaction (SET LOCAL settings the query relies on).
 */
export async function forEachBatch<R>(
  db: Db,
  query: RawBuilder<R>,
  batchSize: number,
  onBatch: (rows: R[]) => Promise<void>,
  setup: readonly RawBuilder<unknown>[] = [],
): Promise<void> {
  await db.connection().execute(async (connection) => {
    await inTransaction(
      connection,
      async () => {
        for (const statement of setup) await statement.execute(connection);
        const cursor = await openCursor(connection, 'lead_dedupe_stream', query);
        const fetchNext = () => {
          const next = cursor.fetch(batchSize);
          // awaited below unless onBatch throws first; the transaction's rollback then reports what failed
          next.catch(() => undefined);
          return next;
        };
        let pending = fetchNext();
        for (;;) {
          const rows = await pending;
          if (rows.length === 0) break;
          // the next batch is read and sent while this one is handled: the server and the client work at once
          pending = fetchNext();
          await onBatch(rows);
        }
      },
      BEGIN_READ_ONLY_SNAPSHOT,
    );
  });
}

export interface OpenCursor<R> {
  /** The next `count` rows (all the rest with 'all'); the query runs only as far as the rows fetched need. */
  fetch(count: number | 'all'): Promise<R[]>;
  close(): Promise<void>;
}

/**
 * Declares a cursor for `query` on a pinned connection, inside the
 * transaction the caller opened (a cursor lives as long as it): its rows
 * come in the steps the caller asks for, so work the query puts after its
 * first rows is done only if the caller fetches further.
 */
export async function openCursor<R>(connection: Db, name: string, query: RawBuilder<R>): Promise<OpenCursor<R>> {
  await sql`declare ${sql.id(name)} no scroll cursor for ${query}`.execute(connection);
  return {
    fetch: async (count) => (await sql<R>`fetch forward ${count === 'all' ? sql`all` : sql.lit(count)} from ${sql.id(name)}`.execute(connection)).rows,
    close: async () => {
      await sql`close ${sql.id(name)}`.execute(connection);
    },
  };
}
