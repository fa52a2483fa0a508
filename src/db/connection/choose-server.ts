import pg from 'pg';
import { describeEndpoint, type Endpoint } from './endpoints.js';
import { endpointClientConfig } from './endpoint-client-config.js';
import type { PostgresTarget } from './postgres-target.js';
import { sessionMeets, sessionPasses } from './session-attrs.js';
import type { SslMode } from './tls-settings.js';

/** The endpoint and TLS choice that libpq's rules settled on, as node-postgres fields. */
export interface ChosenServer {
  endpoint: Endpoint;
  config: pg.ClientConfig;
}

export type PasswordFor = (endpoint: Endpoint) => pg.ClientConfig['password'];

/**
 * libpq's connection loop: each endpoint in order (prefer-standby: standbys
 * first, then any), each with the TLS attempts its sslmode allows — prefer
 * tries TLS, then plain text when the server refuses TLS or the TLS session
 * fails; allow tries plain text, then TLS when the server turns it away — and
 * the first session that meets target_session_attrs wins. Unix sockets never
 * use TLS, as in libpq. The probe session is closed; the caller opens its own
 * sessions with the chosen fields.
 */
export async function chooseServer(target: PostgresTarget, extra: pg.ClientConfig, passwordFor: PasswordFor): Promise<ChosenServer> {
  const failures: string[] = [];
  const fail = (text: string) => {
    // prefer's plain-text retry often fails the same way (no password): said once.
    if (failures.at(-1) !== text) failures.push(text);
  };
  // One endpoint: its address is in the caller's message already.
  const label = (endpoint: Endpoint, suffix: string) => (target.endpoints.length === 1 ? '' : `${describeEndpoint(endpoint)}${suffix}: `);
  for (const requirement of sessionPasses(target.targetSessionAttrs)) {
    for (const endpoint of target.endpoints) {
      for (const useTls of tlsAttempts(target.tls.mode, endpoint)) {
        const config: pg.ClientConfig = { ...extra, ...endpointClientConfig(target, endpoint, useTls), password: passwordFor(endpoint) };
        const client = new pg.Client(config);
        client.on('error', () => undefined);
        let connected = false;
        try {
          await client.connect();
          connected = true;
          if (await sessionMeets(client, requirement)) return { endpoint, config };
          fail(`${label(endpoint, '')}session is not ${requirement}`);
          break;
        } catch (error) {
          if (connected) {
            fail(`${label(endpoint, '')}${failureText(error)}`);
            break;
          }
          fail(`${label(endpoint, useTls ? ' (TLS)' : '')}${failureText(error)}`);
          if (!retriesWithOtherTls(target.tls.mode, useTls, error)) break;
        } finally {
          await client.end().catch(() => undefined);
        }
      }
    }
  }
  throw new ServerChoiceError(failures.join('; '));
}

/** Every endpoint failed or none met target_session_attrs; the message names each attempt. */
export class ServerChoiceError extends Error {}

/** The TLS attempts, in order, libpq makes for a mode. */
export function tlsAttempts(mode: SslMode, endpoint: Endpoint): boolean[] {
  if (endpoint.kind === 'socket') return [false];
  switch (mode) {
    case 'disable':
      return [false];
    case 'allow':
      return [false, true];
    case 'prefer':
      return [true, false];
    default:
      return [true];
  }
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOENT', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EACCES']);

/**
 * prefer moves to plain text on anything but an unreachable endpoint (the
 * server said no to TLS, the TLS session or its login failed); allow moves to
 * TLS only when the server itself turned the plain session away (an error
 * with an SQLSTATE, e.g. pg_hba's hostssl).
 */
function retriesWithOtherTls(mode: SslMode, usedTls: boolean, error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  if (mode === 'prefer' && usedTls) return !(typeof code === 'string' && NETWORK_CODES.has(code)) && !/timeout/i.test(failureText(error));
  if (mode === 'allow' && !usedTls) return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code);
  return false;
}

export function failureText(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return failureText(error.errors[0]);
  if (error instanceof Error) {
    const code = (error as { code?: string }).code;
    if (code === 'ECONNREFUSED') return 'connection refused (is the server running?)';
    if (code === 'ENOENT') return 'no such socket (is the server running there?)';
    if (code === 'ENOTFOUND') return 'host not found';
    return error.message || String(code ?? 'unknown error');
  }
  return String(error);
}
