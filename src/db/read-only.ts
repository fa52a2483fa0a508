import { sql } from 'kysely';
import { ReadOnlyServerError } from '../errors.js';
import type { Database, Db, ReadOnlyState } from './database.js';

/** Read once at connect time: every later query of the command sees the same server state. */
export async function readOnlyState(db: Db): Promise<ReadOnlyState> {
  const { rows } = await sql<{ standby: boolean; read_only: string }>`
    select pg_catalog.pg_is_in_recovery() as standby, pg_catalog.current_setting('transaction_read_only') as read_only`.execute(db);
  const row = rows[0];
  if (row?.standby) return 'standby';
  return row?.read_only === 'on' ? 'read-only session' : null;
}

/**
 * The one check every writing command (clean --execute, restore --execute,
 * constraint add/drop, seed) runs before its first change: exit 2, one line,
 * nothing touched.
 */
export function requireWritable(database: Database): void {
  const state = database.features.readOnly;
  if (state === null) return;
  const what = state === 'standby' ? 'the server is a read-only standby (in recovery)' : 'the session is read-only (default_transaction_read_only is on)';
  throw new ReadOnlyServerError(`${what}; point --database at the primary`);
}

/**
 * For a read-only task that still needs session (temporary) tables: a hot
 * standby allows no DDL at all, not even on temporary tables, and a
 * read-only session creates them but cannot drop them. Exit 2, one line,
 * before the first statement; `task` says what needs them.
 */
export function requireTempTables(database: Database, task: string): void {
  const state = database.features.readOnly;
  if (state === null) return;
  const what =
    state === 'standby' ? 'a read-only standby (in recovery) does not allow' : 'a read-only session (default_transaction_read_only is on) cannot drop';
  throw new ReadOnlyServerError(`${task} works in temporary tables, which ${what}; point --database at the primary (it changes nothing there)`);
}
