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
 * as it opens and drops them, and gives each the one statement it runs first
 * (a single statement: a second one queued behind it would make node-postgres
 * print a deprecation warning): its server process id, and its settings
 * again (set_config, at session level, above ALTER DATABASE/ROLE as the
 * start-up options are), as a pooler can drop the start-up options
 * (PgBouncer's ignore_startup_parameters).
 */
export function startSessions(pool: pg.Pool, settings: [string, string][]): Map<number, PooledSession> {
  const sessions = new Map<number, PooledSession>();
  const { text, values } = settingsStatement(settings);
  pool.on('connect', (client) => {
    const { processID, secretKey } = client as { processID?: number | null; secretKey?: number | null };
    if (!processID || secretKey === undefined || secretKey === null) return;
    const session: PooledSession = { secretKey, serverPid: null };
    sessions.set(processID, session);
    client.query<{ pid: number }>(text, values).then(
      ({ rows }) => {
        session.serverPid = Number(rows[0]!.pid);
      },
      // the start-up options still apply unless a pooler dropped them; a broken session fails its next statement
      () => undefined,
    );
  });
  pool.on('remove', (client) => sessions.delete((client as { processID?: number | null }).processID ?? 0));
  return sessions;
}

/** The session's server process id, and its settings set at session level, as one statement and its parameters. */
export function settingsStatement(settings: readonly [string, string][]): { text: string; values: string[] } {
  return {
    text: `select pg_catalog.pg_backend_pid() as pid${settings.map((_, i) => `, pg_catalog.set_config($${2 * i + 1}, $${2 * i + 2}, false)`).join('')}`,
    values: settings.flat(),
  };
}
