import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import type { ConnectionOptions } from 'node:tls';
import pgConnectionString, { type Configuration } from '@databases/pg-connection-string';
import { UsageError } from '../errors.js';

/**
 * A PostgreSQL server connection, parsed once (libpq semantics: what the
 * string leaves out comes from the PG* variables, then the defaults) and
 * opened from these fields, never from the string again.
 */
export interface PostgresTarget {
  kind: 'postgres';
  host: string;
  port: number;
  database: string;
  user: string;
  /** From the string or PGPASSWORD; null: looked up in the pgpass file when the server asks. */
  password: string | null;
  /** passfile= or PGPASSFILE; null: ~/.pgpass. */
  passfile: string | null;
  /** false: no TLS; otherwise node's TLS options for the libpq sslmode given. */
  ssl: false | ConnectionOptions;
  /** application_name= or PGAPPNAME; null: lead-dedupe. */
  applicationName: string | null;
  /** options= or PGOPTIONS (the tool's own start-up settings are appended, so they win). */
  options: string | null;
  clientEncoding: string | null;
}

/** Where the database lives, parsed from `--database`, `DATABASE_URL`, the PG* variables or the config file. */
export type DatabaseTarget = PostgresTarget | { kind: 'pglite'; dataDir: string | null };

const MISSING =
  'no database given: pass --database (-d) postgres://user@host:5432/db, a keyword string "host=… dbname=…", ' +
  'pglite:<dir> or pglite:memory, set DATABASE_URL or PGHOST/PGDATABASE/…, or try `lead-dedupe demo` for an embedded example';

/** The PG* variables that, on their own, name a server (PGPASSWORD or PGSSLMODE alone do not). */
const TARGET_VARIABLES = ['PGHOST', 'PGHOSTADDR', 'PGPORT', 'PGDATABASE', 'PGUSER', 'PGSERVICE'];

export function environmentNamesServer(env: NodeJS.ProcessEnv): boolean {
  return TARGET_VARIABLES.some((name) => (env[name] ?? '') !== '');
}

/**
 * `raw` is a URL, a libpq keyword string or pglite:…; undefined: the PG*
 * variables alone (an error when none of them names a server).
 *
 * @example parseDatabaseTarget('pglite:memory')                  // { kind: 'pglite', dataDir: null }
 * @example parseDatabaseTarget('postgres://u@h/db')              // { kind: 'postgres', host: 'h', port: 5432, ... }
 * @example parseDatabaseTarget('host=h dbname=db user=u', {})    // the same server, as a keyword string
 */
export function parseDatabaseTarget(raw: string | undefined, env: NodeJS.ProcessEnv = process.env): DatabaseTarget {
  const value = raw?.trim() ?? '';
  if (value === '' && !environmentNamesServer(env)) throw new UsageError(MISSING);
  if (value.startsWith('pglite:')) {
    const dir = value.slice('pglite:'.length);
    if (dir === '') throw new UsageError(`malformed database URL "${value}": use pglite:<dir> or pglite:memory`);
    return { kind: 'pglite', dataDir: dir === 'memory' ? null : dir };
  }
  return postgresTarget(value === '' ? undefined : value, env);
}

function postgresTarget(value: string | undefined, env: NodeJS.ProcessEnv): PostgresTarget {
  const shown = value === undefined ? 'from the PG* variables' : `"${redact(value)}"`;
  const isUrl = value !== undefined && /^postgres(ql)?:\/\//.test(value);
  if (value !== undefined && !isUrl && !/^\s*[a-z_]+\s*=/.test(value)) {
    throw new UsageError(`malformed database URL ${shown}: expected postgres://…, postgresql://…, "host=… dbname=…", pglite:<dir> or pglite:memory`);
  }
  let config: Configuration;
  try {
    // The WHATWG parser first: it rejects what libpq would (an unclosed [ in the host, a bad port).
    if (isUrl && !URL.canParse(value ?? '')) throw new TypeError('not a URL');
    // The package is CommonJS: under NodeNext its default export is `.default` of the module.
    config = pgConnectionString.default(value, { env: withoutEmpty(env), unrecognisedOptionMode: 'error', invalidOptionMode: 'error' });
  } catch (error) {
    throw new UsageError(`malformed database URL ${shown}${reasonOf(error)}`);
  }
  const unsupported = unsupportedSettings(config);
  if (unsupported.length > 0) throw new UsageError(`connection ${shown}: not supported by lead-dedupe: ${unsupported.join(', ')}`);
  const user = config.user ?? osUser();
  return {
    kind: 'postgres',
    host: config.host[0] || 'localhost',
    port: config.port[0] ?? 5432,
    database: config.dbname || user,
    user,
    password: config.password ?? null,
    passfile: config.passfile ?? null,
    ssl: tlsOptions(config),
    applicationName: config.application_name ?? null,
    options: config.options ?? null,
    clientEncoding: config.client_encoding ?? null,
  };
}

/** libpq takes an empty variable as set; the parser would then fail on PGPORT="", so empty ones are dropped. */
function withoutEmpty(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => (entry[1] ?? '') !== ''));
}

/** Settings libpq would honour and node-postgres cannot: refused rather than silently ignored. */
function unsupportedSettings(config: Configuration): string[] {
  const found: string[] = [];
  if (config.host.length > 1 || config.port.length > 1) found.push('several hosts');
  if (config.hostaddr.length > 0) found.push('hostaddr (PGHOSTADDR)');
  if (config.service !== undefined) found.push('service (PGSERVICE)');
  if (config.target_session_attrs === 'read-write') found.push('target_session_attrs=read-write');
  if (config.gssencmode === 'require') found.push('gssencmode=require');
  if (config.channel_binding === 'require') found.push('channel_binding=require');
  if (config.requirepeer !== undefined) found.push('requirepeer');
  if (config.sslcrl !== undefined) found.push('sslcrl');
  if (config.replication !== undefined) found.push('replication');
  return found;
}

/**
 * libpq's sslmode, without node-postgres' own reading of it (which treats
 * require as verify-full and prints a SECURITY WARNING): require encrypts
 * without verifying (verify-ca when sslrootcert is given, as in libpq),
 * verify-ca checks the chain, verify-full the chain and the host name.
 * node-postgres cannot fall back between TLS and plain text, so allow and
 * the unset default connect in plain text and prefer behaves like require.
 */
function tlsOptions(config: Configuration): false | ConnectionOptions {
  const mode = config.sslmode;
  if (mode === undefined || mode === 'disable' || mode === 'allow') return false;
  const files: ConnectionOptions = {
    ...(config.sslrootcert !== undefined && config.sslrootcert !== 'system' ? { ca: readSslFile(config.sslrootcert, 'sslrootcert') } : {}),
    ...(config.sslcert !== undefined ? { cert: readSslFile(config.sslcert, 'sslcert') } : {}),
    ...(config.sslkey !== undefined ? { key: readSslFile(config.sslkey, 'sslkey') } : {}),
  };
  const anyServerName = { checkServerIdentity: () => undefined };
  switch (mode) {
    case 'prefer':
    case 'require':
    case 'no-verify':
      return files.ca === undefined || mode === 'no-verify' ? { ...files, rejectUnauthorized: false } : { ...files, ...anyServerName };
    case 'verify-ca':
      return { ...files, ...anyServerName };
    default:
      return files;
  }
}

function readSslFile(path: string, setting: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${setting} ${path}: ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}`);
  }
}

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'postgres';
  }
}

function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : '';
  // The parser's messages name a parameter or a character, never a value; a URL error may hold the input.
  return message === '' || error instanceof TypeError ? '' : `: ${message.split('\n')[0]}`;
}

/**
 * Never echo a password back into a terminal or a cron mail (URL or keyword form).
 * A URL's user info runs from `//` to the last `@` of the string: a malformed URL
 * may hold raw `@`, `/`, `?` or `#` in its password, and only the last `@` is sure
 * to follow the whole of it. The user (before the first `:`) stays; everything
 * after it up to that `@` becomes `***`, even when that hides part of the host.
 *
 * @example redact('postgres://postgres:S3cret@PW@host/db') // 'postgres://postgres:***@host/db'
 */
export function redact(text: string): string {
  const url = /^(\s*postgres(?:ql)?:\/\/)(.*)$/s.exec(text);
  const masked = url === null ? text : `${url[1]}${redactUserInfo(url[2]!)}`;
  return masked.replace(/(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)/gi, '$1***');
}

/** After `//`: `user:***@rest` when a `:` comes before the last `@`, else unchanged (no password there). */
function redactUserInfo(rest: string): string {
  const at = rest.lastIndexOf('@');
  const colon = rest.indexOf(':');
  if (at < 0 || colon < 0 || colon > at) return rest;
  return `${rest.slice(0, colon)}:***${rest.slice(at)}`;
}

/**
 * The connection string without its password (URL user info, `?password=`,
 * keyword `password=`), for a command the user is told to paste: unlike
 * redact's ***, what is left still connects, with the password from
 * PGPASSWORD or the pgpass file.
 *
 * @example withoutPassword('postgres://dba:s3cret@db1/crm')   // 'postgres://dba@db1/crm'
 * @example withoutPassword("host=db1 password='a b' dbname=crm") // 'host=db1 dbname=crm'
 */
export function withoutPassword(text: string): string {
  const url = /^(postgres(?:ql)?:\/\/)(.*)$/s.exec(text.trim());
  if (url !== null) {
    return `${url[1]}${withoutUserPassword(url[2]!)}`.replace(/([?&])password=[^&#]*(&|$)/i, (_, before: string, after: string) =>
      after === '&' ? before : '',
    );
  }
  return text.replace(/\s*\bpassword\s*=\s*('(?:[^'\\]|\\.)*'|\S+)/gi, '').trim();
}

/**
 * After `//`, the user info without its password. Only strings that parsed
 * reach here, whose password holds no raw `?`, so the user info ends at the
 * last `@` before the query (a `@` in the query is not the password's).
 */
function withoutUserPassword(rest: string): string {
  const query = rest.indexOf('?');
  const authority = query < 0 ? rest : rest.slice(0, query);
  const at = authority.lastIndexOf('@');
  const colon = authority.indexOf(':');
  if (at < 0 || colon < 0 || colon > at) return rest;
  return `${rest.slice(0, colon)}${rest.slice(at)}`;
}

export function describeTarget(target: DatabaseTarget): string {
  if (target.kind === 'pglite') return target.dataDir === null ? 'pglite:memory' : `pglite:${target.dataDir}`;
  return `${target.host}:${target.port}/${target.database}`;
}
