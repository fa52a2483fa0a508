import { CompiledQuery, type DatabaseConnection, type QueryResult, sql } from 'kysely';
import type { Db } from './database.js';
import {
  CHECK_SESSION_SQL,
  CLAIM_SESSION_SQL,
  claimedIdentity,
  newSessionToken,
  RELEASE_SESSION_SQL,
  requireSameSession,
  type SessionIdentity,
  type SessionRow,
} from './session-token.js';

/** A pooled connection whose server session it claimed: kysely's own connection, with that session's identity. */
export class ClaimedConnection implements DatabaseConnection {
  constructor(
    readonly inner: DatabaseConnection,
    readonly identity: SessionIdentity,
  ) {}

  executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    return this.inner.executeQuery<R>(query);
  }

  streamQuery<R>(query: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    return this.inner.streamQuery<R>(query, chunkSize);
  }
}

/**
 * A new pooled session's set-up, in one transaction so that behind any
 * pooler it all lands on one server session: `setup` (the tool's settings,
 * the search_path pin), then the claim (session-token.ts). A server session
 * that already carries another token or temporary tables is refused
 * (SharedSessionError) and left as it was: the rollback undoes the settings.
 */
export async function claimSession(connection: DatabaseConnection, setup: readonly CompiledQuery[]): Promise<ClaimedConnection> {
  const token = newSessionToken();
  await connection.executeQuery(CompiledQuery.raw('begin'));
  try {
    for (const statement of setup) await connection.executeQuery(statement);
    const { rows } = await connection.executeQuery<SessionRow>(CompiledQuery.raw(CLAIM_SESSION_SQL, [token]));
    const identity = claimedIdentity(rows[0], token);
    await connection.executeQuery(CompiledQuery.raw('commit'));
    return new ClaimedConnection(connection, identity);
  } catch (error) {
    await connection.executeQuery(CompiledQuery.raw('rollback')).catch(() => undefined);
    throw error;
  }
}

/**
 * Run right after BEGIN (transaction.ts): throws SharedSessionError unless
 * the transaction runs on the server session this connection claimed. A
 * connection that claimed none needs no check: PGlite is one session in this
 * process, with no pooler in between.
 */
export async function verifySession(connection: Db): Promise<void> {
  const identity = await connection.getExecutor().provideConnection(async (pinned) => (pinned instanceof ClaimedConnection ? pinned.identity : null));
  if (identity === null) return;
  const { rows } = await sql.raw<SessionRow>(CHECK_SESSION_SQL).execute(connection);
  requireSameSession(rows[0], identity);
}

/** verifySession for kysely's own transactions (db.transaction()), which the driver begins. */
export async function verifyConnection(connection: ClaimedConnection): Promise<void> {
  const { rows } = await connection.executeQuery<SessionRow>(CompiledQuery.raw(CHECK_SESSION_SQL));
  requireSameSession(rows[0], connection.identity);
}

/** Gives the server session back as it was found (session-token.ts, RELEASE_SESSION_SQL), if it is still this connection's; a broken connection is left to close. */
export async function releaseSession(connection: ClaimedConnection): Promise<void> {
  await connection.executeQuery(CompiledQuery.raw(RELEASE_SESSION_SQL, [connection.identity.token])).catch(() => undefined);
}
