import type { ResolvedSettings } from './resolve-settings.js';

/**
 * libpq settings node-postgres cannot honour, each with the values that
 * would change what libpq does (any value, for keywords that only matter
 * when set). Refused by name rather than silently ignored; a keyword's
 * compiled-in default never trips this.
 */
const UNSUPPORTED: readonly { keyword: string; refused: (value: string) => boolean; why: string }[] = [
  { keyword: 'keepalives_interval', refused: isSet, why: 'node cannot set the TCP keepalive interval' },
  { keyword: 'keepalives_count', refused: isSet, why: 'node cannot set the TCP keepalive count' },
  { keyword: 'tcp_user_timeout', refused: isSet, why: 'node cannot set TCP_USER_TIMEOUT' },
  { keyword: 'sslcrldir', refused: isSet, why: 'use sslcrl with a single file' },
  { keyword: 'sslrootcert', refused: (value) => value === 'system', why: "the system's CA store is not read" },
  { keyword: 'sslsni', refused: (value) => value.trim() === '0', why: 'the server name is always sent' },
  { keyword: 'sslcompression', refused: (value) => value.trim() === '1', why: 'TLS compression is not available' },
  { keyword: 'requirepeer', refused: isSet, why: "the server process's user is not checked" },
  { keyword: 'gssencmode', refused: (value) => value === 'require', why: 'GSSAPI encryption is not available' },
  { keyword: 'krbsrvname', refused: (value) => value !== 'postgres', why: 'GSSAPI/Kerberos is not available' },
  { keyword: 'gsslib', refused: isSet, why: 'GSSAPI is not available' },
  { keyword: 'channel_binding', refused: (value) => value === 'require', why: 'channel binding cannot be enforced' },
  { keyword: 'replication', refused: isSet, why: 'replication connections are not used' },
];

function isSet(value: string): boolean {
  return value !== '';
}

/** `keyword=value (why)` for each unsupported setting in effect. */
export function unsupportedSettings(settings: ResolvedSettings): string[] {
  return UNSUPPORTED.flatMap(({ keyword, refused, why }) => {
    const setting = settings.get(keyword);
    if (setting === undefined || setting.source.kind === 'default' || !refused(setting.value)) return [];
    return [`${keyword}=${setting.value} (${why})`];
  });
}
