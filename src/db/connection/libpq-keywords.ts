/**
 * libpq's connection keywords (PostgreSQL 15's PQconninfoOptions, the libpq
 * Debian 12 ships), in libpq's order: the PG* variable that fills each one
 * and libpq's compiled-in default. A keyword outside this list is refused
 * by the parser exactly as libpq refuses it ("invalid connection option").
 */
export interface LibpqKeyword {
  keyword: string;
  /** The environment variable libpq reads when neither the string nor a service file set it. */
  envVar: string | null;
  /** libpq's compiled-in default; null: none (user and dbname get theirs when connecting). */
  compiled: string | null;
  /** Masked wherever a value is shown. */
  secret?: true;
}

export const LIBPQ_KEYWORDS: readonly LibpqKeyword[] = [
  { keyword: 'service', envVar: 'PGSERVICE', compiled: null },
  { keyword: 'user', envVar: 'PGUSER', compiled: null },
  { keyword: 'password', envVar: 'PGPASSWORD', compiled: null, secret: true },
  { keyword: 'passfile', envVar: 'PGPASSFILE', compiled: null },
  { keyword: 'channel_binding', envVar: 'PGCHANNELBINDING', compiled: 'prefer' },
  { keyword: 'connect_timeout', envVar: 'PGCONNECT_TIMEOUT', compiled: null },
  { keyword: 'dbname', envVar: 'PGDATABASE', compiled: null },
  { keyword: 'host', envVar: 'PGHOST', compiled: null },
  { keyword: 'hostaddr', envVar: 'PGHOSTADDR', compiled: null },
  { keyword: 'port', envVar: 'PGPORT', compiled: '5432' },
  { keyword: 'client_encoding', envVar: 'PGCLIENTENCODING', compiled: null },
  { keyword: 'options', envVar: 'PGOPTIONS', compiled: '' },
  { keyword: 'application_name', envVar: 'PGAPPNAME', compiled: null },
  { keyword: 'fallback_application_name', envVar: null, compiled: null },
  { keyword: 'keepalives', envVar: null, compiled: null },
  { keyword: 'keepalives_idle', envVar: null, compiled: null },
  { keyword: 'keepalives_interval', envVar: null, compiled: null },
  { keyword: 'keepalives_count', envVar: null, compiled: null },
  { keyword: 'tcp_user_timeout', envVar: null, compiled: null },
  { keyword: 'sslmode', envVar: 'PGSSLMODE', compiled: 'prefer' },
  { keyword: 'sslcompression', envVar: 'PGSSLCOMPRESSION', compiled: '0' },
  { keyword: 'sslcert', envVar: 'PGSSLCERT', compiled: null },
  { keyword: 'sslkey', envVar: 'PGSSLKEY', compiled: null },
  { keyword: 'sslpassword', envVar: null, compiled: null, secret: true },
  { keyword: 'sslrootcert', envVar: 'PGSSLROOTCERT', compiled: null },
  { keyword: 'sslcrl', envVar: 'PGSSLCRL', compiled: null },
  { keyword: 'sslcrldir', envVar: 'PGSSLCRLDIR', compiled: null },
  { keyword: 'sslsni', envVar: 'PGSSLSNI', compiled: '1' },
  { keyword: 'requirepeer', envVar: 'PGREQUIREPEER', compiled: null },
  { keyword: 'ssl_min_protocol_version', envVar: 'PGSSLMINPROTOCOLVERSION', compiled: 'TLSv1.2' },
  { keyword: 'ssl_max_protocol_version', envVar: 'PGSSLMAXPROTOCOLVERSION', compiled: null },
  { keyword: 'gssencmode', envVar: 'PGGSSENCMODE', compiled: 'prefer' },
  { keyword: 'krbsrvname', envVar: 'PGKRBSRVNAME', compiled: 'postgres' },
  { keyword: 'gsslib', envVar: 'PGGSSLIB', compiled: null },
  { keyword: 'replication', envVar: null, compiled: null },
  { keyword: 'target_session_attrs', envVar: 'PGTARGETSESSIONATTRS', compiled: 'any' },
];

const BY_NAME = new Map(LIBPQ_KEYWORDS.map((entry) => [entry.keyword, entry]));

export function libpqKeyword(name: string): LibpqKeyword | undefined {
  return BY_NAME.get(name);
}

/** Keyword → value, as libpq's PQconninfoParse leaves them: only what was set, values as given. */
export type ConninfoSettings = Map<string, string>;
