import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import { ConninfoError } from './conninfo-error.js';
import type { ResolvedSettings } from './resolve-settings.js';

export const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof SSL_MODES)[number];

const TLS_VERSIONS = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const;

/** What TLS means for this connection when it is used: the mode and node's options (files read once, here). */
export interface TlsSettings {
  mode: SslMode;
  /** node's TLS options; the server name check is added per endpoint (tls-for-endpoint.ts). */
  options: ConnectionOptions;
  /** verify-ca / verify-full, or require with a root certificate (libpq then verifies the chain). */
  verifyChain: boolean;
  verifyName: boolean;
}

/**
 * libpq's TLS settings: sslmode, the root certificate (sslrootcert, else
 * ~/.postgresql/root.crt when it exists), the client certificate and key
 * (sslcert/sslkey, else ~/.postgresql/postgresql.crt/.key when they exist),
 * sslpassword, sslcrl and the protocol bounds.
 */
export function tlsSettings(settings: ResolvedSettings, home: string | null): TlsSettings {
  const value = (keyword: string) => settings.get(keyword)?.value ?? '';
  const mode = value('sslmode') as SslMode;
  if (!SSL_MODES.includes(mode)) throw new ConninfoError(`invalid sslmode value: "${value('sslmode')}"`);
  const inHome = (name: string) => (home === null ? '' : join(home, '.postgresql', name));
  const file = (keyword: string, fallback: string): string | null => {
    const given = value(keyword);
    if (given !== '') return given;
    return fallback !== '' && existsSync(fallback) ? fallback : null;
  };
  const rootCert = file('sslrootcert', inHome('root.crt'));
  const verifyChain = mode === 'verify-ca' || mode === 'verify-full' || (mode === 'require' && rootCert !== null && existsSync(rootCert));
  if ((mode === 'verify-ca' || mode === 'verify-full') && (rootCert === null || !existsSync(rootCert))) {
    throw new ConninfoError(
      `root certificate file "${rootCert ?? inHome('root.crt')}" does not exist; either provide the file or change sslmode to disable server certificate verification`,
    );
  }
  const cert = file('sslcert', inHome('postgresql.crt'));
  const key = file('sslkey', inHome('postgresql.key'));
  const crl = file('sslcrl', inHome('root.crl'));
  const options: ConnectionOptions = {
    ...(verifyChain && rootCert !== null ? { ca: read(rootCert, 'root certificate') } : {}),
    ...(cert !== null && existsSync(cert) ? { cert: read(cert, 'certificate') } : {}),
    ...(cert !== null && existsSync(cert) && key !== null ? { key: read(key, 'private key') } : {}),
    ...(value('sslpassword') !== '' ? { passphrase: value('sslpassword') } : {}),
    ...(verifyChain && crl !== null && existsSync(crl) ? { crl: read(crl, 'SSL certificate revocation list') } : {}),
    minVersion: protocolVersion(value('ssl_min_protocol_version'), 'ssl_min_protocol_version') ?? 'TLSv1.2',
    ...(protocolVersion(value('ssl_max_protocol_version'), 'ssl_max_protocol_version') === null
      ? {}
      : { maxVersion: protocolVersion(value('ssl_max_protocol_version'), 'ssl_max_protocol_version')! }),
    rejectUnauthorized: verifyChain,
  };
  return { mode, options, verifyChain, verifyName: mode === 'verify-full' };
}

function protocolVersion(text: string, keyword: string): (typeof TLS_VERSIONS)[number] | null {
  if (text === '') return null;
  const version = TLS_VERSIONS.find((candidate) => candidate.toLowerCase() === text.toLowerCase());
  if (version === undefined) throw new ConninfoError(`invalid ${keyword} value: "${text}"`);
  return version;
}

function read(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConninfoError(`could not read ${what} file "${path}": ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}`);
  }
}
