import { homedir, userInfo } from 'node:os';
import { ConninfoError } from './connection/conninfo-error.js';
import { describeEndpoint } from './connection/endpoints.js';
import { parseConninfo } from './connection/parse-conninfo.js';
import { uriPrefixLength } from './connection/parse-uri.js';
import { percentDecode } from './connection/percent-decode.js';
import { postgresTarget, type PostgresTarget } from './connection/postgres-target.js';
import { resolveSettings } from './connection/resolve-settings.js';
import { UsageError } from '../errors.js';
import { maskPasswordPieces, redact, urlPasswordText } from './connection/url-password.js';

export { redact, withoutPassword } from './connection/url-password.js';

export type { PostgresTarget } from './connection/postgres-target.js';

/** Where the database lives, parsed from `--database`, `DATABASE_URL`, the PG* variables or the config file. */
export type DatabaseTarget = PostgresTarget | { kind: 'pglite'; dataDir: string | null };

const MISSING =
  'no database given: pass --database (-d) postgres://user@host:5432/db, a keyword string "host=… dbname=…", ' +
  'pglite:<dir> or pglite:memory, set DATABASE_URL or PGHOST/PGDATABASE/PGSERVICE/…, or try `lead-dedupe demo` for an embedded example';

/** The PG* variables that, on their own, name a server (PGPASSWORD or PGSSLMODE alone do not). */
const TARGET_VARIABLES = ['PGHOST', 'PGHOSTADDR', 'PGPORT', 'PGDATABASE', 'PGUSER', 'PGSERVICE'];

export function environmentNamesServer(env: NodeJS.ProcessEnv): boolean {
  return TARGET_VARIABLES.some((name) => (env[name] ?? '') !== '');
}

/**
 * `raw` is a URL, a libpq keyword string or pglite:…; undefined: the PG*
 * variables alone (an error when none of them names a server). A server's
 * string is read exactly as libpq reads it (db/connection/), filled from a
 * service file, the PG* variables and libpq's defaults; `givenBy` names the
 * string's origin for `lead-dedupe connection`.
 *
 * @example parseDatabaseTarget('pglite:memory')                  // { kind: 'pglite', dataDir: null }
 * @example parseDatabaseTarget('postgres://u@h/db')              // { kind: 'postgres', endpoints: [{ kind: 'name', host: 'h', port: 5432 }], ... }
 * @example parseDatabaseTarget('host=h dbname=db user=u', {})    // the same server, as a keyword string
 */
export function parseDatabaseTarget(raw: string | undefined, env: NodeJS.ProcessEnv = process.env, givenBy = '--database'): DatabaseTarget {
  const value = raw?.trim() ?? '';
  if (value === '' && !environmentNamesServer(env)) throw new UsageError(MISSING);
  if (value.startsWith('pglite:')) {
    const dir = value.slice('pglite:'.length);
    if (dir === '') throw new UsageError(`malformed database URL "${value}": use pglite:<dir> or pglite:memory`);
    return { kind: 'pglite', dataDir: dir === 'memory' ? null : dir };
  }
  const shown = value === '' ? 'from the PG* variables' : `"${redact(value)}"`;
  // libpq's messages may quote the string, password included: shown masked.
  const masked = (error: ConninfoError) => (value === '' ? error.message : maskPasswordPieces(error.message, value));
  let given: Map<string, string>;
  try {
    given = value === '' ? new Map() : databaseNameOnly(value) ? new Map([['dbname', value]]) : parseConninfo(value);
    refuseSplitPassword(value, given);
  } catch (error) {
    if (error instanceof ConninfoError) throw new UsageError(`malformed database URL ${shown}: ${masked(error)}`);
    throw error;
  }
  const home = homeDirectory(env);
  try {
    const settings = resolveSettings({ given, givenBy: value === '' ? 'PG* variables' : givenBy, env, home });
    return postgresTarget(settings, { env, home, osUser: osUser() });
  } catch (error) {
    if (error instanceof ConninfoError) throw new UsageError(`connection ${shown}: ${masked(error)}`);
    throw error;
  }
}

/**
 * `psql -d crm`: libpq (expand_dbname) takes a value that is neither a URI
 * nor holds an `=` as a database name. A value with another scheme
 * (`mysql://…`) is not: psql would fail on a database of that name, the tool
 * says so before connecting.
 */
function databaseNameOnly(value: string): boolean {
  return !value.includes('=') && uriPrefixLength(value) === 0 && !/^[a-z][a-z0-9+.-]*:\/\//i.test(value);
}

/**
 * A URL whose password holds a raw @ or / parses (libpq ends the password at
 * the first @, the user info at the first /, and reads the rest as host, port
 * or database) but would show a piece of the password as a host name in
 * every message: refused, asking for percent-encoding. Told apart from a
 * well-formed URL by a password that is not all of redact's masked text and
 * an @ left in the host, port or database.
 */
function refuseSplitPassword(value: string, given: Map<string, string>): void {
  const secret = urlPasswordText(value);
  if (secret === null) return;
  let decoded: string | null;
  try {
    decoded = percentDecode(secret);
  } catch {
    decoded = null;
  }
  if (decoded !== null && given.get('password') === decoded) return;
  if (!['host', 'port', 'dbname'].some((keyword) => given.get(keyword)?.includes('@'))) return;
  throw new ConninfoError('the password holds a raw @ or / that ends it early: percent-encode them (%40, %2F)');
}

/** libpq's home: $HOME, else the password database's entry. */
function homeDirectory(env: NodeJS.ProcessEnv): string | null {
  if (env.HOME !== undefined && env.HOME !== '') return env.HOME;
  try {
    return homedir();
  } catch {
    return null;
  }
}

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'postgres';
  }
}

/** The target in one line, without secrets: pglite:…, or every endpoint then the database (`127.0.0.1:5432/crm`). */
export function describeTarget(target: DatabaseTarget): string {
  if (target.kind === 'pglite') return target.dataDir === null ? 'pglite:memory' : `pglite:${target.dataDir}`;
  return `${target.endpoints.map(describeEndpoint).join(',')}/${target.database}`;
}
