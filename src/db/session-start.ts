import type pg from 'pg';

/** What the tool knows of one pooled server session, by the process id its start-up named (BackendKeyData). */
export interface PooledSession {
  /** The key of PostgreSQL's cancel request (db/cancel.ts). */
  secretKey: number;
  /**
   * Its server process id (pg_backend_pid), once its first statement answered; what pg_blocking_pids needs.
   * Behind PgBouncer it differs from the start-up's, which PgBouncer hands the client on its own.
   */
  serverPid: number | null;
}

/**
 * Keeps the pool's sessions (start-up process id → PooledSession) up to date
 * as it opens and drops them, and asks each its server process id first (a
 * single statement: a second one queued behind it would make node-postgres
 * print a deprecation warning). Its settings are not set here, outside any
 * transaction, where a transaction-mode pooler could hand them to another
 * client's server session: kysely's sessions get them with their claim
 * (session-guard.ts), a COPY's for its transaction (copy-out.ts).
 */
export function startSessions(pool: pg.Pool): Map<number, PooledSession> {
  const sessions = new Map<number, PooledSession>();
  pool.on('connect', (client) => {
    const { processID, secretKey } = client as { processID?: number | null; secretKey?: number | null };
    if (!processID || secretKey === undefined || secretKey === null) return;
    const session: PooledSession = { secretKey, serverPid: null };
    sessions.set(processID, session);
    client.query<{ pid: number }>('select pg_catalog.pg_backend_pid() as pid').then(
      ({ rows }) => {
        session.serverPid = Number(rows[0]!.pid);
      },
      // a broken session fails its next statement
      () => undefined,
    );
  });
  pool.on('remove', (client) => sessions.delete((client as { processID?: number | null }).processID ?? 0));
  return sessions;
}

/**
 * The tool's settings (set_config, above ALTER DATABASE/ROLE as the start-up
 * options are, which a pooler can drop: PgBouncer's ignore_startup_parameters)
 * as one statement and its parameters, for the session or (`local`) for the
 * transaction it runs in.
 */
export function settingsStatement(settings: readonly [string, string][], local = false): { text: string; values: string[] } {
  return {
    text: `select pg_catalog.pg_backend_pid() as pid${settings.map((_, i) => `, pg_catalog.set_config($${2 * i + 1}, $${2 * i + 2}, ${local})`).join('')}`,
    values: settings.flat(),
  };
}
