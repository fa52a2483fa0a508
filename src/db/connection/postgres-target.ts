import { join } from 'node:path';
import { ConninfoError } from './conninfo-error.js';
import { endpoints, parseLibpqInt, type Endpoint } from './endpoints.js';
import type { ResolvedSettings } from './resolve-settings.js';
import { tlsSettings, type TlsSettings } from './tls-settings.js';
import { unsupportedSettings } from './unsupported-settings.js';

export const TARGET_SESSION_ATTRS = ['any', 'read-write', 'read-only', 'primary', 'standby', 'prefer-standby'] as const;
export type TargetSessionAttrs = (typeof TARGET_SESSION_ATTRS)[number];

/** A PostgreSQL server connection with libpq's meaning, opened from these fields (db/connection/open-session.ts). */
export interface PostgresTarget {
  kind: 'postgres';
  /** Tried in order, as libpq does with host/hostaddr/port lists. */
  endpoints: Endpoint[];
  user: string;
  database: string;
  /** From the string, a service file or PGPASSWORD; null: looked up in the pgpass file when the server asks. */
  password: string | null;
  /** passfile, PGPASSFILE or ~/.pgpass. */
  passfile: string | null;
  tls: TlsSettings;
  targetSessionAttrs: TargetSessionAttrs;
  /** Per endpoint, in seconds (libpq raises 1 to 2); null: wait as long as the system does. */
  connectTimeoutSeconds: number | null;
  /** application_name, else fallback_application_name; null: the tool names itself. */
  applicationName: string | null;
  /** options (PGOPTIONS) and the settings libpq takes from PGDATESTYLE, PGTZ and PGGEQO; null: none. */
  options: string | null;
  clientEncoding: string | null;
  /** keepalives (on unless 0) and keepalives_idle in seconds. */
  keepAlive: boolean;
  keepAliveIdleSeconds: number | null;
  /** Every setting with its value and source, for `lead-dedupe connection`. */
  settings: ResolvedSettings;
}

export interface TargetContext {
  env: NodeJS.ProcessEnv;
  home: string | null;
  /** The operating-system user: libpq's user when none (or an empty one) is given. */
  osUser: string;
}

/**
 * libpq's connectOptions2 over the resolved settings: an empty user is the
 * OS user, an empty dbname the user, each list paired into endpoints;
 * values libpq would refuse are refused with its words, and settings this
 * tool cannot honour are refused by name.
 */
export function postgresTarget(settings: ResolvedSettings, { env, home, osUser }: TargetContext): PostgresTarget {
  const value = (keyword: string) => settings.get(keyword)?.value ?? '';
  const unsupported = unsupportedSettings(settings);
  if (unsupported.length > 0) throw new ConninfoError(`not supported by lead-dedupe: ${unsupported.join(', ')}`);
  const targetSessionAttrs = value('target_session_attrs') as TargetSessionAttrs;
  if (!TARGET_SESSION_ATTRS.includes(targetSessionAttrs)) throw new ConninfoError(`invalid target_session_attrs value: "${value('target_session_attrs')}"`);
  for (const [keyword, allowed] of [
    ['gssencmode', ['disable', 'prefer', 'require']],
    ['channel_binding', ['disable', 'prefer', 'require']],
  ] as const) {
    if (!(allowed as readonly string[]).includes(value(keyword))) throw new ConninfoError(`invalid ${keyword} value: "${value(keyword)}"`);
  }
  const user = value('user') === '' ? osUser : value('user');
  // As libpq: a setting that is present must be a number, even when empty (PGCONNECT_TIMEOUT="").
  const integer = (keyword: string) => {
    const setting = settings.get(keyword);
    return setting === undefined ? null : parseLibpqInt(setting.value, keyword);
  };
  const timeout = integer('connect_timeout') ?? 0;
  const idle = integer('keepalives_idle');
  return {
    kind: 'postgres',
    endpoints: endpoints(value('host'), value('hostaddr'), value('port')),
    user,
    database: value('dbname') === '' ? user : value('dbname'),
    password: value('password') === '' ? null : value('password'),
    passfile: value('passfile') !== '' ? value('passfile') : home === null ? null : join(home, '.pgpass'),
    tls: tlsSettings(settings, home),
    targetSessionAttrs,
    connectTimeoutSeconds: timeout <= 0 ? null : Math.max(timeout, 2),
    applicationName: value('application_name') || value('fallback_application_name') || null,
    options: startupOptions(value('options'), env),
    clientEncoding: value('client_encoding') === '' ? null : value('client_encoding'),
    keepAlive: integer('keepalives') !== 0,
    keepAliveIdleSeconds: idle,
    settings,
  };
}

/** libpq sends PGDATESTYLE, PGTZ and PGGEQO as start-up settings (after options=); spaces escaped for the server's split. */
function startupOptions(options: string, env: NodeJS.ProcessEnv): string | null {
  const fromEnv = [
    ['datestyle', env.PGDATESTYLE],
    ['timezone', env.PGTZ],
    ['geqo', env.PGGEQO],
  ].flatMap(([name, setting]) => (setting === undefined || setting === '' ? [] : [`-c ${name}=${setting.replace(/([\\\s])/g, '\\$1')}`]));
  const all = [options, ...fromEnv].filter((part) => part !== '').join(' ');
  return all === '' ? null : all;
}
