import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import pg from 'pg';
import { serverClientConfig } from '../../src/db/server-client-config.js';
import { parseDatabaseTarget, type DatabaseTarget } from '../../src/db/database-target.js';
import type { Database } from '../../src/db/database.js';
import { openDatabase } from '../../src/db/with-database.js';
import { SESSION_PIN_STATEMENTS, USER_SEARCH_PATH_SETTING } from '../../src/db/session-pin.js';

/**
 * The integration suites run the same cases on embedded PGlite (always) and
 * on a real PostgreSQL server (when TEST_DATABASE_URL is set). On the server
 * each suite gets a database of its own, dropped afterwards.
 */
export const SERVER_URL = process.env.TEST_DATABASE_URL;

export interface TestDatabase {
  label: 'pglite' | 'postgres';
  /** A target the CLI or withDatabase can open (a fresh server database, or PGlite in memory). */
  target: DatabaseTarget;
  /** For the CLI binary (server only; PGlite in memory lives in one process). */
  url: string | null;
  database: Database;
  /** Hand-written SQL for oracles and fixtures. */
  query<R = Record<string, unknown>>(text: string): Promise<R[]>;
  /** Several statements, each ending in `;` at the end of a line. */
  exec(script: string): Promise<void>;
  close(): Promise<void>;
}

export interface TestTarget {
  label: 'pglite' | 'postgres';
  available: boolean;
  open(): Promise<TestDatabase>;
}

export const TEST_TARGETS: TestTarget[] = [
  { label: 'pglite', available: true, open: () => openOn(parseDatabaseTarget('pglite:memory'), null, async () => undefined) },
  { label: 'postgres', available: SERVER_URL !== undefined, open: openServerDatabase },
];

if (SERVER_URL === undefined && process.env.CI) {
  throw new Error('CI must run the server suite: set TEST_DATABASE_URL');
}
if (SERVER_URL === undefined) {
  console.log('server suite skipped: TEST_DATABASE_URL is not set (PGlite suite still runs)');
}

async function openServerDatabase(): Promise<TestDatabase> {
  const name = `lead_dedupe_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client(await serverClientConfig(SERVER_URL!));
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(SERVER_URL!);
  url.pathname = `/${name}`;
  return openOn(parseDatabaseTarget(url.toString()), url.toString(), async () => {
    const client = new pg.Client(await serverClientConfig(SERVER_URL!));
    await client.connect();
    await client.query(`drop database if exists ${name} with (force)`);
    await client.end();
  });
}

export async function openOn(target: DatabaseTarget, url: string | null, dropAfter: () => Promise<void>): Promise<TestDatabase> {
  const database = await openDatabase(target, { connections: 4 });
  return {
    label: target.kind,
    target,
    url,
    database,
    async query<R>(text: string) {
      return underUserPath(database, async (db) => (await sql.raw<R>(text).execute(db)).rows);
    },
    async exec(script: string) {
      for (const statement of script
        .split(/;\s*\n/)
        .map((s) => s.trim())
        .filter(Boolean)) {
        await underUserPath(database, (db) => sql.raw(statement.replace(/;$/, '')).execute(db));
      }
    },
    async close() {
      await database.db.destroy();
      await dropAfter();
    },
  };
}

/** Roles are cluster-wide: a suite that made one drops it after its database is gone. */
export async function dropRole(role: string): Promise<void> {
  const admin = new pg.Client(await serverClientConfig(SERVER_URL!));
  await admin.connect();
  try {
    await admin.query(`drop role if exists ${role}`);
  } finally {
    await admin.end();
  }
}

/**
 * Hand-written fixtures and oracles name tables as a person would (`leads`): they run on one of the
 * tool's sessions with the user's own search_path for the statement, then the tool's pin again.
 */
export async function underUserPath<T>(database: Database, fn: (db: Database['db']) => Promise<T>): Promise<T> {
  return database.db.connection().execute(async (connection) => {
    await sql`select pg_catalog.set_config('search_path', pg_catalog.array_to_string(array(select pg_catalog.quote_ident(s) from pg_catalog.jsonb_array_elements_text(pg_catalog.current_setting(${USER_SEARCH_PATH_SETTING})::jsonb) as s where s <> 'pg_catalog' and s not like 'pg\\_temp%'), ', '), false)`.execute(
      connection,
    );
    try {
      return await fn(connection);
    } finally {
      await sql.raw(SESSION_PIN_STATEMENTS[1]!).execute(connection);
    }
  });
}
