import type { UnindexedChildKey } from '../../clean/types.js';

/** One stderr line per child foreign key without an index; the suggested index is for the DBA to build, never built here. */
export function unindexedChildKeyLines(keys: UnindexedChildKey[]): string[] {
  return keys.map((key) => {
    const table = `${quoteIdent(key.schema)}.${quoteIdent(key.table)}`;
    return `lead-dedupe: warning: ${key.schema}.${key.table}.${key.column} has no index: re-pointing and deleting will scan ${key.schema}.${key.table} once per batch; CREATE INDEX CONCURRENTLY ON ${table} (${quoteIdent(key.column)}) would help`;
  });
}

/** As PostgreSQL's quote_ident: plain lower-case names stay bare, anything else is double-quoted. */
function quoteIdent(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) ? name : `"${name.replaceAll('"', '""')}"`;
}
