import pg from 'pg';

/**
 * Cancels whatever statements the pool's sessions are running, from a
 * session of its own (the pool's may all be busy): pg_cancel_backend on
 * every backend the pool opened. A session that is idle ignores it.
 */
export function backendCanceller(pool: pg.Pool, config: pg.ClientConfig, backends: Set<number> = trackBackends(pool)): () => Promise<void> {
  return async () => {
    if (backends.size === 0) return;
    const client = new pg.Client({ ...config, connectionTimeoutMillis: 5000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('select pg_catalog.pg_cancel_backend(pid) from pg_catalog.unnest($1::int[]) as pid', [[...backends]]);
    } catch {
      // Best effort: the statement then ends on its own (or with the process), and is rolled back either way.
    } finally {
      await client.end().catch(() => undefined);
    }
  };
}

/** The backend pids of the sessions the pool holds, kept up to date as it opens and drops them. */
export function trackBackends(pool: pg.Pool): Set<number> {
  const backends = new Set<number>();
  pool.on('connect', (client) => {
    const pid = (client as { processID?: number | null }).processID;
    if (pid) backends.add(pid);
  });
  pool.on('remove', (client) => backends.delete((client as { processID?: number | null }).processID ?? 0));
  return backends;
}
