import {
  CompiledQuery,
  type DatabaseConnection,
  type Driver,
  PostgresDialect,
  type PostgresDialectConfig,
  PostgresDriver,
  type TransactionSettings,
} from 'kysely';
import { claimSession, isClaimed, verifyConnection } from './session-guard.js';

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

class GuardedPostgresDriver extends PostgresDriver {
  readonly #setup: readonly CompiledQuery[];

  constructor(config: PostgresDialectConfig, setup: readonly CompiledQuery[]) {
    super(config);
    this.#setup = setup;
  }

  // Not kysely's onCreateConnection: a session it refuses would never go back to the pool, and closing the pool would wait for it.
  override async acquireConnection(): Promise<DatabaseConnection> {
    const connection = await super.acquireConnection();
    if (isClaimed(connection)) return connection;
    try {
      await claimSession(connection, this.#setup);
    } catch (error) {
      // the connection super.acquireConnection made: a PostgresConnection, which kysely's own type does not say
      await this.releaseConnection(connection as Parameters<PostgresDriver['releaseConnection']>[0]);
      throw error;
    }
    return connection;
  }

  override async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    await super.beginTransaction(connection, settings);
    try {
      await verifyConnection(connection);
    } catch (error) {
      // kysely rolls back only a transaction whose begin succeeded
      await connection.executeQuery(CompiledQuery.raw('rollback')).catch(() => undefined);
      throw error;
    }
  }
}
