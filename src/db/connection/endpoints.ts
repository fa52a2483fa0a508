import { ConninfoError } from './conninfo-error.js';

/** Debian's libpq: the socket directory it uses when no host is given (DEFAULT_PGSOCKET_DIR). */
export const DEFAULT_SOCKET_DIR = '/var/run/postgresql';
export const DEFAULT_PORT = 5432;

/** One place to try, as libpq's pg_conn_host: a socket directory, a host name, or an address (hostaddr). */
export interface Endpoint {
  /** socket: `host` is a directory; name: resolved by DNS; address: `hostaddr` is dialled, `host` (if any) names it for TLS and .pgpass. */
  kind: 'socket' | 'name' | 'address';
  host: string;
  hostaddr: string | null;
  port: number;
}

/**
 * libpq's connectOptions2: host, hostaddr and port are comma lists that
 * pair up (one port serves every host); an empty host means the default
 * socket directory, an empty port 5432, a host starting with / a socket
 * directory.
 *
 * @example endpoints('a,/tmp', '', '5433') // [{ kind: 'name', host: 'a', port: 5433 }, { kind: 'socket', host: '/tmp', port: 5433 }]
 */
export function endpoints(host: string, hostaddr: string, port: string): Endpoint[] {
  const addresses = hostaddr === '' ? [] : hostaddr.split(',');
  const names = host === '' ? [] : host.split(',');
  const count = addresses.length > 0 ? addresses.length : Math.max(names.length, 1);
  if (addresses.length > 0 && names.length > 0 && names.length !== addresses.length) {
    throw new ConninfoError(`could not match ${names.length} host names to ${addresses.length} hostaddr values`);
  }
  const ports = port === '' ? [] : port.split(',');
  if (ports.length > 1 && ports.length !== count) throw new ConninfoError(`could not match ${ports.length} port numbers to ${count} hosts`);
  return Array.from({ length: count }, (_, index) => {
    const name = names[index] ?? '';
    const address = addresses[index] ?? '';
    const portNumber = parsePort(ports.length === 1 ? ports[0]! : (ports[index] ?? ''));
    if (address !== '') return { kind: 'address', host: name, hostaddr: address, port: portNumber };
    if (name === '') return { kind: 'socket', host: DEFAULT_SOCKET_DIR, hostaddr: null, port: portNumber };
    return { kind: name.startsWith('/') ? 'socket' : 'name', host: name, hostaddr: null, port: portNumber };
  });
}

function parsePort(text: string): number {
  if (text === '') return DEFAULT_PORT;
  const value = parseLibpqInt(text, 'port');
  if (value < 1 || value > 65535) throw new ConninfoError(`invalid port number: "${text}"`);
  return value;
}

/** libpq's parse_int_param: an integer, surrounding whitespace allowed, nothing else. */
export function parseLibpqInt(text: string, keyword: string): number {
  if (!/^\s*[-+]?\d+\s*$/.test(text)) throw new ConninfoError(`invalid integer value "${text}" for connection option "${keyword}"`);
  return Number.parseInt(text, 10);
}

/** How an endpoint reads in a message or a report: a socket file, host:port, or host (address):port. */
export function describeEndpoint(endpoint: Endpoint): string {
  if (endpoint.kind === 'socket') return `${endpoint.host}/.s.PGSQL.${endpoint.port}`;
  const name = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
  if (endpoint.kind === 'address') return `${endpoint.host === '' ? endpoint.hostaddr : `${name} (${endpoint.hostaddr})`}:${endpoint.port}`;
  return `${name}:${endpoint.port}`;
}
