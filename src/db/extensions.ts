import { sql } from 'kysely';
import type { Db } from './database.js';

/**
 * The schema each of these extensions is installed in, in this database
 * (absent: not installed). Read from the catalog; the tool never creates one.
 */
export async function installedExtensions(db: Db, names: readonly string[]): Promise<Map<string, string>> {
  const { rows } = await sql<{ name: string; schema: string }>`select e.extname as name, n.nspname as schema
from pg_catalog.pg_extension as e join pg_catalog.pg_namespace as n on n.oid = e.extnamespace
where e.extname = any(${sql.val([...names])}::text[])`.execute(db);
  return new Map(rows.map((row) => [row.name, row.schema]));
}
