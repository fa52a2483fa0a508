import { checkServerIdentity, type ConnectionOptions } from 'node:tls';
import { isIP } from 'node:net';
import type pg from 'pg';
import { DEFAULT_SOCKET_DIR, type Endpoint } from './endpoints.js';
import type { PostgresTarget } from './postgres-target.js';

/** Used when connect_timeout is not set: libpq would wait for the system's TCP timeout (minutes). */
export const DEFAULT_CONNECT_TIMEOUT_SECONDS = 10;

/**
 * node-postgres' fields for one endpoint, with or without TLS: a socket
 * directory or host name goes to `host`; with hostaddr the address is
 * dialled and the host name, if any, is what TLS checks and sends (SNI).
 * `password` is left to the caller (db/pgpass.ts looks it up per endpoint).
 */
export function endpointClientConfig(target: PostgresTarget, endpoint: Endpoint, useTls: boolean): pg.ClientConfig {
  return {
    host: endpoint.kind === 'address' ? endpoint.hostaddr! : endpoint.host,
    port: endpoint.port,
    database: target.database,
    user: target.user,
    ssl: useTls ? tlsFor(target, endpoint) : false,
    connectionTimeoutMillis: (target.connectTimeoutSeconds ?? DEFAULT_CONNECT_TIMEOUT_SECONDS) * 1000,
    keepAlive: target.keepAlive,
    ...(target.keepAliveIdleSeconds === null ? {} : { keepAliveInitialDelayMillis: target.keepAliveIdleSeconds * 1000 }),
  };
}

function tlsFor(target: PostgresTarget, endpoint: Endpoint): ConnectionOptions {
  const { options, verifyChain, verifyName } = target.tls;
  // libpq checks the name the user wrote (host), or the address when only hostaddr was given.
  const expected = endpoint.host !== '' ? endpoint.host : (endpoint.hostaddr ?? '');
  return {
    ...options,
    ...(endpoint.kind === 'address' && endpoint.host !== '' && isIP(endpoint.host) === 0 ? { servername: endpoint.host } : {}),
    ...(verifyChain ? { checkServerIdentity: verifyName ? (_: string, cert) => checkServerIdentity(expected, cert) : () => undefined } : {}),
  };
}

/** The host name libpq matches against .pgpass lines: localhost for the default socket directory or none. */
export function pgpassHost(endpoint: Endpoint): string {
  if (endpoint.kind === 'socket') return endpoint.host === DEFAULT_SOCKET_DIR ? 'localhost' : endpoint.host;
  return endpoint.host !== '' ? endpoint.host : endpoint.hostaddr!;
}
