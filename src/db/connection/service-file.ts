import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ConninfoError } from './conninfo-error.js';
import { libpqKeyword } from './libpq-keywords.js';

/** Where Debian's libpq looks for the system-wide file (`pg_config --sysconfdir`) unless PGSYSCONFDIR says otherwise. */
export const DEBIAN_SYSCONFDIR = '/etc/postgresql-common';

export interface ServiceDefinition {
  file: string;
  /** keyword → value, in the file's order. */
  settings: Map<string, string>;
}

/**
 * libpq's parseServiceInfo: the user's file (PGSERVICEFILE, else
 * ~/.pg_service.conf), then the system's (PGSYSCONFDIR/pg_service.conf,
 * else Debian's default); the first file that defines the service wins,
 * and a service defined in neither is an error.
 */
export function findService(service: string, env: NodeJS.ProcessEnv, home: string | null): ServiceDefinition {
  const userFile = env.PGSERVICEFILE ?? (home === null ? null : join(home, '.pg_service.conf'));
  const systemFile = join(env.PGSYSCONFDIR ?? DEBIAN_SYSCONFDIR, 'pg_service.conf');
  for (const file of [userFile, systemFile]) {
    if (file === null || !exists(file)) continue;
    const settings = readService(file, service);
    if (settings !== null) return { file, settings };
  }
  throw new ConninfoError(`definition of service "${service}" not found`);
}

function exists(file: string): boolean {
  try {
    statSync(file);
    return true;
  } catch {
    return false;
  }
}

/**
 * libpq's parseServiceFile: `[name]` starts a group, `keyword=value` lines
 * (no trimming after the leading blanks) fill it, # starts a comment line.
 * null: the file has no such group.
 */
export function readService(file: string, service: string): Map<string, string> | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new ConninfoError(`service file "${file}" not found`);
  }
  let found: Map<string, string> | null = null;
  const lines = text.split('\n');
  for (const [index, raw] of lines.entries()) {
    // libpq reads a line into 256 bytes, its newline included.
    if (Buffer.byteLength(raw) + 1 >= 255) throw new ConninfoError(`line ${index + 1} too long in service file "${file}"`);
    const line = raw.replace(/[\r\n]+$/, '').replace(/^[ \t\n\v\f\r]+/, '');
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('[')) {
      if (found !== null) return found;
      // libpq compares the name as a prefix followed by ]: anything after the ] is ignored.
      if (line.slice(1, 1 + service.length) === service && line[1 + service.length] === ']') found = new Map();
      continue;
    }
    if (found === null) continue;
    const syntaxError = () => new ConninfoError(`syntax error in service file "${file}", line ${index + 1}`);
    const equals = line.indexOf('=');
    if (equals < 0) throw syntaxError();
    const keyword = line.slice(0, equals);
    if (keyword === 'service') throw new ConninfoError(`nested service specifications not supported in service file "${file}", line ${index + 1}`);
    if (libpqKeyword(keyword) === undefined) throw syntaxError();
    if (!found.has(keyword)) found.set(keyword, line.slice(equals + 1));
  }
  return found;
}
