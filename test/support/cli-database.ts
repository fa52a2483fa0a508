import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { parseDatabaseTarget } from '../../src/db/database-target.js';
import { withDatabase } from '../../src/db/with-database.js';
import { SERVER_URL, TEST_TARGETS, type TestDatabase, underUserPath } from './test-database.js';

/**
 * A database for end-to-end suites that run the binary: a fresh server
 * database when TEST_DATABASE_URL is set, else a PGlite directory in a
 * temporary folder (one process opens it at a time).
 */
export interface CliDatabase {
  /** The temporary folder (PGlite's directory lives in it; suites may write files there). */
  dir: string;
  /** What --database takes. */
  database: string;
  /** Hand-written SQL on the same database, between CLI runs, under the user's search_path. */
  query<R>(text: string): Promise<R[]>;
  close(): Promise<void>;
}

export const CLI_DATABASE_LABEL = SERVER_URL ? 'server' : 'PGlite directory';

export async function openCliDatabase(prefix: string): Promise<CliDatabase> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const server: TestDatabase | undefined = SERVER_URL ? await TEST_TARGETS.find((t) => t.label === 'postgres')!.open() : undefined;
  const database = server?.url ?? `pglite:${join(dir, 'db')}`;
  return {
    dir,
    database,
    async query<R>(text: string) {
      if (server) return server.query<R>(text);
      return withDatabase(parseDatabaseTarget(database), (db) => underUserPath(db, async (connection) => (await sql.raw<R>(text).execute(connection)).rows));
    },
    async close() {
      await server?.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
