import { connect } from 'node:net';
import type pg from 'pg';
import { serialize } from 'pg-protocol';
import type { PooledSession } from './session-start.js';

/** How long one cancel request may take to reach the server; it is best effort either way. */
const CANCEL_TIMEOUT_MS = 5000;

/**
 * Cancels whatever statements the pool's sessions are running the way
 * libpq's PQcancel does: for each session a CancelRequest (its process id
 * and secret key, from the server's BackendKeyData) on a connection of its
 * own, which the server reads before any authentication and then closes.
 * No session slot, password or pg_hba line is needed, so it works when
 * max_connections is reached. A session that is idle ignores it.
 */
export function backendCanceller(config: Pick<pg.ClientConfig, 'host' | 'port'>, sessions: Map<number, PooledSession>): () => Promise<void> {
  return async () => {
    await Promise.all([...sessions].map(([processID, { secretKey }]) => sendCancelRequest(config, processID, secretKey)));
  };
}

/** Best effort: a request that cannot be sent leaves the statement to end on its own, rolled back either way. */
function sendCancelRequest(config: Pick<pg.ClientConfig, 'host' | 'port'>, processID: number, secretKey: number): Promise<void> {
  const host = config.host ?? 'localhost';
  const port = config.port ?? 5432;
  // A socket directory, as node-postgres dials it.
  const socket = host.startsWith('/') ? connect(`${host}/.s.PGSQL.${port}`) : connect(port, host);
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve();
    };
    const timer = setTimeout(done, CANCEL_TIMEOUT_MS);
    // Written, then left open until the server closes it, as PQcancel does: from a client that hung up at once,
    // PgBouncer 1.18 dropped the request, and once exited with "bad client state" (every client's connection with it).
    socket.on('connect', () => socket.write(serialize.cancel(processID, secretKey)));
    socket.on('error', done);
    socket.on('close', done);
  });
}
