import type { Db } from '../db/database.js';
import { archiveDdl, archiveUpgradeStatements, archiveUpToDateQuery } from './sql/archive-sql.js';
import { sqlStateOf } from '../db/database-error.js';
import { inTransaction } from '../db/transaction.js';

/**
 * Creates the archive schema and tables if missing (never drops them), and
 * upgrades an archive from an earlier version (runs table columns, the
 * keepers' merged_data); each ALTER (an exclusive lock, and the owner's
 * right even when the column is already there) only runs when its column is missing.
 */
export async function ensureArchive(connection: Db, schema: string): Promise<void> {
  const create = () =>
    inTransaction(connection, async () => {
      for (const statement of archiveDdl(schema)) await statement.execute(connection);
      const state = (await archiveUpToDateQuery(schema).execute(connection)).rows[0] ?? { runs_up_to_date: false, keepers_up_to_date: false };
      for (const statement of archiveUpgradeStatements(schema, state)) await statement.execute(connection);
    });
  try {
    await create();
  } catch (error) {
    // Two first runs (on different tables) can race on CREATE … IF NOT EXISTS; the second attempt sees the winner's tables.
    if (sqlStateOf(error) !== '23505' && sqlStateOf(error) !== '42P07') throw error;
    await create();
  }
}
