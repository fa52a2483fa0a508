import { describeEndpoint } from '../../db/connection/endpoints.js';
import type { ResolvedSetting, SettingSource } from '../../db/connection/resolve-settings.js';
import type { DatabaseTarget } from '../../db/database-target.js';

/** One line of `lead-dedupe connection`: a setting, its value (secrets masked) and where it came from. */
export interface ConnectionSettingRow {
  setting: string;
  value: string;
  source: string;
}

/** What the tool would connect to, and why, without connecting. */
export interface ConnectionReport {
  kind: 'postgres' | 'pglite';
  /** Each endpoint in the order tried: a socket file, host:port or host (address):port. */
  endpoints: string[];
  settings: ConnectionSettingRow[];
}

/** The settings shown even when they hold their defaults; others only when set. */
const ALWAYS_SHOWN = [
  'host',
  'hostaddr',
  'port',
  'user',
  'dbname',
  'password',
  'passfile',
  'sslmode',
  'target_session_attrs',
  'connect_timeout',
  'application_name',
];

/**
 * Describes a resolved target: every libpq setting in effect with its
 * source (the string's flag, a PG* variable, a service file, the default),
 * the values libpq derives (OS user, socket directory, dbname = user) named
 * as such, passwords masked.
 */
export function connectionReport(target: DatabaseTarget): ConnectionReport {
  if (target.kind === 'pglite') {
    return { kind: 'pglite', endpoints: [], settings: [{ setting: 'embedded database', value: target.dataDir ?? 'memory', source: '--database' }] };
  }
  const rows: ConnectionSettingRow[] = [];
  const setting = (keyword: string): ResolvedSetting | undefined => target.settings.get(keyword);
  const derived = (keyword: string, value: string, why: string): ConnectionSettingRow => {
    const given = setting(keyword);
    return given !== undefined && given.value !== '' ? row(keyword, given) : { setting: keyword, value, source: why };
  };
  const socketOnly = target.endpoints.every((endpoint) => endpoint.kind === 'socket');
  rows.push(derived('host', target.endpoints.map((endpoint) => endpoint.host || '').join(','), socketOnly ? 'default (Unix socket directory)' : 'default'));
  if (setting('hostaddr')?.value) rows.push(row('hostaddr', setting('hostaddr')!));
  rows.push(derived('port', target.endpoints.map((endpoint) => String(endpoint.port)).join(','), 'default'));
  rows.push(derived('user', target.user, 'default (operating-system user)'));
  rows.push(derived('dbname', target.database, 'default (the user name)'));
  const password = setting('password');
  rows.push(
    password !== undefined && password.value !== ''
      ? { setting: 'password', value: '***', source: sourceText(password.source) }
      : { setting: 'password', value: '(none given)', source: 'looked up in passfile when the server asks' },
  );
  rows.push(derived('passfile', target.passfile ?? '(none)', 'default (~/.pgpass)'));
  rows.push(row('sslmode', setting('sslmode')!));
  rows.push(row('target_session_attrs', setting('target_session_attrs')!));
  rows.push(
    derived('connect_timeout', target.connectTimeoutSeconds === null ? '(none; the tool waits 10 s)' : String(target.connectTimeoutSeconds), 'default'),
  );
  rows.push(derived('application_name', target.applicationName ?? 'lead-dedupe', 'default (the tool)'));
  for (const [keyword, value] of target.settings) {
    if (ALWAYS_SHOWN.includes(keyword) || value.source.kind === 'default') continue;
    rows.push(row(keyword, value));
  }
  return { kind: 'postgres', endpoints: target.endpoints.map(describeEndpoint), settings: rows };
}

function row(keyword: string, setting: ResolvedSetting): ConnectionSettingRow {
  const secret = keyword === 'password' || keyword === 'sslpassword';
  return { setting: keyword, value: secret ? '***' : setting.value, source: sourceText(setting.source) };
}

function sourceText(source: SettingSource): string {
  switch (source.kind) {
    case 'string':
      return source.name;
    case 'service':
      return `service ${source.service} (${source.file})`;
    case 'environment':
      return source.variable;
    case 'default':
      return 'default';
    default:
      return source satisfies never;
  }
}
