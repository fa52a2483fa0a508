import { UsageError } from '../errors.js';

/** Where the database lives, parsed from `--database` / `DATABASE_URL`. */
export type DatabaseTarget =
  | { kind: 'postgres'; url: string; host: string; port: number; database: string }
  | { kind: 'pglite'; dataDir: string | null };

const MISSING =
  'no database given: pass --database postgres://user@host:5432/db (or pglite:<dir>, pglite:memory), ' +
  'set DATABASE_URL, or try `lead-dedupe demo` for an embedded example';

/**
 * @example parseDatabaseTarget('pglite:memory')      // { kind: 'pglite', dataDir: null }
 * @example parseDatabaseTarget('postgres://u@h/db')  // { kind: 'postgres', host: 'h', port: 5432, ... }
 */
export function parseDatabaseTarget(raw: string | undefined): DatabaseTarget {
  if (raw === undefined || raw.trim() === '') throw new UsageError(MISSING);
  const value = raw.trim();
  if (value.startsWith('pglite:')) {
    const dir = value.slice('pglite:'.length);
    if (dir === '') throw new UsageError(`malformed database URL "${value}": use pglite:<dir> or pglite:memory`);
    return { kind: 'pglite', dataDir: dir === 'memory' ? null : dir };
  }
  if (!/^postgres(ql)?:\/\//.test(value)) {
    throw new UsageError(
      `malformed database URL "${redact(value)}": expected postgres://…, postgresql://…, pglite:<dir> or pglite:memory`,
    );
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`malformed database URL "${redact(value)}"`);
  }
  const port = url.port === '' ? 5432 : Number(url.port);
  return {
    kind: 'postgres',
    url: value,
    host: url.hostname || 'localhost',
    port,
    database: decodeURIComponent(url.pathname.replace(/^\//, '')) || '(default)',
  };
}

/** Never echo a password back into a terminal or a cron mail. */
export function redact(url: string): string {
  return url.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@');
}

export function describeTarget(target: DatabaseTarget): string {
  if (target.kind === 'pglite') return target.dataDir === null ? 'pglite:memory' : `pglite:${target.dataDir}`;
  return `${target.host}:${target.port}/${target.database}`;
}
