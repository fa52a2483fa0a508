import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import pgpass from 'pgpass/lib/helper.js';
import type { Endpoint } from './connection/endpoints.js';
import { pgpassHost } from './connection/endpoint-client-config.js';
import type { PasswordFor } from './connection/choose-server.js';
import type { PostgresTarget } from './database-target.js';

/**
 * The password for `target` at `endpoint` from its pgpass file (passfile=,
 * PGPASSFILE or ~/.pgpass), read with the pgpass package's own matcher, as
 * libpq does: only when the server asks and no password was given, ignored
 * when group- or world-readable, the default socket directory matched as
 * localhost. Called here rather than left to node-postgres, whose own
 * lookup ignores passfile= and prints a deprecation notice.
 */
export async function pgpassPassword(target: PostgresTarget, endpoint: Endpoint): Promise<string | undefined> {
  if (target.passfile === null) return undefined;
  const file = target.passfile;
  const stats = await stat(file).catch(() => null);
  if (stats === null || !pgpass.usePgPass(stats, file)) return undefined;
  return new Promise((resolve) => {
    pgpass.getPassword({ host: pgpassHost(endpoint), port: endpoint.port, database: target.database, user: target.user }, createReadStream(file), resolve);
  });
}

/**
 * What node-postgres is given as the password at `endpoint`: the one given,
 * else a lookup in the pgpass file made only when the server asks (as
 * libpq's "no password supplied" when there is none).
 */
export function passwordFor(target: PostgresTarget): PasswordFor {
  return (endpoint) =>
    target.password ??
    (async () => {
      const password = await pgpassPassword(target, endpoint);
      if (password === undefined)
        throw new Error(`no password supplied for user ${target.user} (none in the connection string, PGPASSWORD or the pgpass file)`);
      return password;
    });
}
