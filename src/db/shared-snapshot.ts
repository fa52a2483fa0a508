import { sql } from 'kysely';
import type { Database, Db } from './database.js';
import { BEGIN_READ_ONLY_SNAPSHOT, inTransaction } from './transaction.js';

/** Where statements that must agree with each other run. */
export interface ReadSessions {
  /** Runs `work` on a connection of the pool; with a shared snapshot, inside a transaction that sees it. */
  run<T>(work: (db: Db) => Promise<T>): Promise<T>;
  /**
   * Like `run`, but the planner may not use parallel workers: for a light statement that runs
   * beside the scan's aggregates, where the workers would only take their cores (bench/README.md, B12).
   */
  runSerially<T>(work: (db: Db) => Promise<T>): Promise<T>;
  /** The exported snapshot a raw pooled connection (COPY) imports; null when there is none to share. */
  snapshotId: string | null;
  /** 'independent': each statement on any pooled connection; 'shared snapshot' (withSharedSnapshot); 'one connection' (withOneConnection). */
  kind: 'independent' | 'shared snapshot' | 'one connection';
}

/** Every statement on whichever pooled connection is free, each in its own snapshot (the default). */
export function independentSessions(database: Database): ReadSessions {
  return {
    run: (work) => work(database.db),
    // PGlite runs no parallel workers, and has one connection to pin.
    runSerially: (work) =>
      database.features.driver === 'pglite'
        ? work(database.db)
        : database.db.connection().execute((connection) => inTransaction(connection, () => withoutParallelWorkers(connection, work))),
    snapshotId: null,
    kind: 'independent',
  };
}

/** SET LOCAL: the setting ends with the transaction the caller is in, whatever happens to `work`. */
async function withoutParallelWorkers<T>(connection: Db, work: (db: Db) => Promise<T>): Promise<T> {
  await sql`set local max_parallel_workers_per_gather = 0`.execute(connection);
  return work(connection);
}

/** What pg_export_snapshot() returns (e.g. 00000003-0000001B-1); checked before it is written into SET TRANSACTION SNAPSHOT. */
const SNAPSHOT_ID = /^[0-9A-F]+-[0-9A-F]+(-[0-9]+)?$/i;

/**
 * Statements on several connections that all read one snapshot: a holding
 * connection opens a read-only REPEATABLE READ transaction and exports its
 * snapshot (pg_export_snapshot); every `run` opens one of its own and
 * imports it (SET TRANSACTION SNAPSHOT) before its first statement. So a
 * scan and the details export beside it count the same rows however fast
 * the table changes, and still run side by side. The holder keeps its
 * transaction open until `work` ends (an exported snapshot lives that long)
 * and takes one pooled connection for itself. PGlite has one connection and
 * no other writer: statements simply run there.
 */
export async function withSharedSnapshot<T>(database: Database, work: (sessions: ReadSessions) => Promise<T>): Promise<T> {
  if (database.features.driver === 'pglite') return work(independentSessions(database));
  return database.db.connection().execute((holder) =>
    inTransaction(
      holder,
      async () => {
        const { rows } = await sql<{ id: string }>`select pg_catalog.pg_export_snapshot() as id`.execute(holder);
        const snapshotId = checkedSnapshotId(rows[0]?.id);
        const run = <T>(inner: (db: Db) => Promise<T>) =>
          database.db.connection().execute((connection) =>
            // the import must come before the transaction's first query (the session check, then inner)
            inTransaction(connection, () => inner(connection), [BEGIN_READ_ONLY_SNAPSHOT, setTransactionSnapshot(snapshotId)]),
          );
        return work({
          snapshotId,
          run,
          runSerially: (inner) => run((connection) => withoutParallelWorkers(connection, inner)),
          kind: 'shared snapshot',
        });
      },
      BEGIN_READ_ONLY_SNAPSHOT,
    ),
  );
}

/**
 * Every statement on one connection, one after another, in one read-only
 * REPEATABLE READ transaction. For a Citus distributed table: the
 * connections a distributed statement opens to the workers stay open for the
 * next statement of the same transaction, while between transactions Citus
 * keeps one per worker and opens the others again (1M rows, 32 shards, the
 * 3-instance cluster: a count(*) took 0.54-0.55 s as a statement of its own,
 * 0.06-0.07 s after the key's statement in the same transaction;
 * bench/README.md, B17). Each statement already runs on every shard at once,
 * so side by side they would only compete for the workers' cores. PGlite has
 * one connection anyway.
 */
export async function withOneConnection<T>(database: Database, work: (sessions: ReadSessions) => Promise<T>): Promise<T> {
  if (database.features.driver === 'pglite') return work(independentSessions(database));
  return database.db.connection().execute((connection) =>
    inTransaction(
      connection,
      () => {
        let queue: Promise<unknown> = Promise.resolve();
        const run = <R>(inner: (db: Db) => Promise<R>): Promise<R> => {
          const next = queue.then(() => inner(connection));
          queue = next.catch(() => undefined);
          return next;
        };
        return work({ run, runSerially: run, snapshotId: null, kind: 'one connection' });
      },
      BEGIN_READ_ONLY_SNAPSHOT,
    ),
  );
}

export function setTransactionSnapshot(snapshotId: string) {
  return sql`set transaction snapshot ${sql.lit(checkedSnapshotId(snapshotId))}`;
}

/** The id as pg_export_snapshot() writes it, or an error: only such an id is ever written into a statement. */
export function checkedSnapshotId(id: string | undefined): string {
  if (id === undefined || !SNAPSHOT_ID.test(id)) throw new Error(`the server exported an unexpected snapshot id: ${String(id)}`);
  return id;
}
