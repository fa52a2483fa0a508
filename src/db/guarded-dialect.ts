import {
  CompiledQuery,
  type DatabaseConnection,
  type Driver,
  PostgresDialect,
  type PostgresDialectConfig,
  PostgresDriver,
  type TransactionSettings,
} from 'kysely';
import { ClaimedConnection, claimSession, releaseSession, verifyConnection } from './session-guard.js';

/**
 * kysely's PostgreSQL dialect whose pooled sessions are each set up and
 * claimed (`setup`, then session-guard.ts's claim) before kysely runs
 * anything on them, and whose transactions (db.transaction()) check first
 * that they run on the server session claimed, as inTransaction's do.
 */
export class GuardedPostgresDialect extends PostgresDialect {
  readonly #config: PostgresDialectConfig;
  readonly #setup: readonly CompiledQuery[];

  constructor(config: Omit<PostgresDialectConfig, 'onCreateConnection'>, setup: readonly CompiledQuery[]) {
    super(config);
    this.#config = config;
    this.#setup = setup;
  }

  override createDriver(): Driver {
    return new GuardedPostgresDriver(this.#config, this.#setup);
  }
}

/** kysely's PostgresDriver releases and discards its own connection objects: each ClaimedConnection is unwrapped for it. */
type PostgresConnection = Parameters<PostgresDriver['releaseConnection']>[0];

class GuardedPostgresDriver extends PostgresDriver {
  readonly #setup: readonly CompiledQuery[];
  /** kysely's connection (one per pooled pg client, kept by the driver) → the same, claimed. */
  readonly #claimed = new WeakMap<DatabaseConnection, ClaimedConnection>();
  /** The same, to release them when the pool closes. */
  readonly #everClaimed = new Set<ClaimedConnection>();
  /** Those kysely holds now: one still running a statement when the pool closes (a failed run's other session) is left alone. */
  readonly #inUse = new Set<DatabaseConnection>();

  constructor(config: PostgresDialectConfig, setup: readonly CompiledQuery[]) {
    super(config);
    this.#setup = setup;
  }

  // Not kysely's onCreateConnection: a session it refuses would never go back to the pool, and closing the pool would wait for it.
  override async acquireConnection(): Promise<DatabaseConnection> {
    const connection = await super.acquireConnection();
    const known = this.#claimed.get(connection);
    if (known !== undefined) {
      this.#inUse.add(known);
      return known;
    }
    try {
      const claimed = await claimSession(connection, this.#setup);
      this.#claimed.set(connection, claimed);
      this.#everClaimed.add(claimed);
      this.#inUse.add(claimed);
      return claimed;
    } catch (error) {
      await super.releaseConnection(connection as PostgresConnection);
      throw error;
    }
  }

  // Each claimed session is handed back clean before the pool closes: behind a pooler it lives on for other clients.
  override async destroy(): Promise<void> {
    for (const connection of this.#everClaimed) if (!this.#inUse.has(connection)) await releaseSession(connection);
    this.#everClaimed.clear();
    await super.destroy();
  }

  override async releaseConnection(connection: PostgresConnection): Promise<void> {
    this.#inUse.delete(connection);
    await super.releaseConnection(unwrap(connection) as PostgresConnection);
  }

  override async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    await super.beginTransaction(connection, settings);
    if (!(connection instanceof ClaimedConnection)) return;
    try {
      await verifyConnection(connection);
    } catch (error) {
      // kysely rolls back only a transaction whose begin succeeded
      await connection.executeQuery(CompiledQuery.raw('rollback')).catch(() => undefined);
      throw error;
    }
  }

  override async rollbackTransaction(connection: PostgresConnection): Promise<void> {
    await super.rollbackTransaction(unwrap(connection) as PostgresConnection);
  }
}

function unwrap(connection: DatabaseConnection): DatabaseConnection {
  return connection instanceof ClaimedConnection ? connection.inner : connection;
}
