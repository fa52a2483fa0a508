import type { BlockerProbe } from './lock-waits.js';
import type { Writable } from 'node:stream';
import type { Kysely } from 'kysely';

/**
 * The tool works on tables it only knows at run time, so the Kysely schema is
 * open: every table and column name is checked against the catalog
 * (`db/catalog.ts`) before it reaches a query, and only through kysely's
 * identifier helpers.
 */
export type DynamicSchema = Record<string, Record<string, unknown>>;
export type Db = Kysely<DynamicSchema>;

/** What the open connection can do; core functions adapt to it. */
export interface DatabaseFeatures {
  /** `pg` pool (a real server) or embedded PGlite (one connection). */
  driver: 'postgres' | 'pglite';
  /** e.g. 150004 for 15.4 */
  serverVersionNum: number;
  /** Connections that may run statements at the same time. */
  maxConcurrency: number;
  /** Read at connect time: a standby or read-only session only reads (db/read-only.ts). */
  readOnly: ReadOnlyState;
}

export interface Database {
  db: Db;
  features: DatabaseFeatures;
  /**
   * `COPY (…) TO STDOUT` into a stream, on a server only (pg); null on
   * PGlite, where callers stream through a cursor instead. With
   * `snapshotId`, inside a transaction that imports that exported snapshot.
   */
  copyOut: ((copyStatement: string, destination: Writable, snapshotId?: string | null) => Promise<number>) | null;
  /**
   * Cancels the statements running on this database's sessions (SIGINT, SIGTERM) with the server's cancel
   * request, which needs no free connection slot; null on PGlite, which runs statements in this thread.
   */
  cancel: (() => Promise<void>) | null;
  /**
   * Opens a probe for the sessions that block this database's own
   * (pg_blocking_pids, db/lock-waits.ts), on a session of its own; absent
   * or null on PGlite, which never waits on another session.
   */
  blockers?: (() => BlockerProbe) | null;
}

/**
 * Why the connection cannot write: a hot standby (recovery), or a session
 * that is read-only (default_transaction_read_only, e.g. set on the database
 * or role); null when it can write.
 */
export type ReadOnlyState = 'standby' | 'read-only session' | null;
