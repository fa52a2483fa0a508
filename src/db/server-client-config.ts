import type pg from 'pg';
import { UsageError } from '../errors.js';
import { chooseServer } from './connection/choose-server.js';
import { parseDatabaseTarget } from './database-target.js';
import { passwordFor } from './pgpass.js';

/**
 * node-postgres fields for a side session opened outside withDatabase (the
 * benchmark's statements, a test's oracle or lock holder), resolved and
 * chosen exactly as every command's connection is: libpq's grammar, the PG*
 * variables and service file, sslmode's TLS attempts, target_session_attrs.
 * No connect timeout is kept, so a pg.Pool built on it never times out
 * waiting for a free client.
 *
 * @example new pg.Client(await serverClientConfig('postgres://postgres@127.0.0.1/crm'))
 */
export async function serverClientConfig(connection: string, env: NodeJS.ProcessEnv = process.env): Promise<pg.ClientConfig> {
  const target = parseDatabaseTarget(connection, env);
  if (target.kind !== 'postgres') throw new UsageError(`a server connection is needed here, not ${connection}`);
  // Not named lead-dedupe: tests find the tool's own sessions by that name.
  const { config } = await chooseServer(target, target.applicationName === null ? {} : { application_name: target.applicationName }, passwordFor(target));
  const { connectionTimeoutMillis: _unused, ...fields } = config;
  return fields;
}
