import type pg from 'pg';

/**
 * The one statement each pooled server session runs first, before anything
 * else (a single statement: a second one queued behind it would make
 * node-postgres print a deprecation warning):
 * - its settings again (set_config, at session level, above ALTER
 *   DATABASE/ROLE as the start-up options are): a pooler can drop the
 *   start-up options (PgBouncer's ignore_startup_parameters);
 * - its server process id (pg_backend_pid), kept by the process id the
 *   start-up named: behind PgBouncer the two differ, and pg_blocking_pids
 *   needs the server's.
 * Returns the server pids (start-up pid → server pid), kept up to date as the
 * pool opens and drops sessions.
 */
export function startSessions(pool: pg.Pool, settings: [string, string][]): Map<number, number> {
  const serverPids = new Map<number, number>();
  const keyPid = (client: pg.PoolClient | pg.Client) => (client as { processID?: number | null }).processID ?? 0;
  const text = `select pg_catalog.pg_backend_pid() as pid${settings.map((_, i) => `, pg_catalog.set_config($${2 * i + 1}, $${2 * i + 2}, false)`).join('')}`;
  const values = settings.flat();
  pool.on('connect', (client) => {
    client.query<{ pid: number }>(text, values).then(
      ({ rows }) => serverPids.set(keyPid(client), Number(rows[0]!.pid)),
      // the start-up options still apply unless a pooler dropped them; a broken session fails its next statement
      () => undefined,
    );
  });
  pool.on('remove', (client) => serverPids.delete(keyPid(client)));
  return serverPids;
}
