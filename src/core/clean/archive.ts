import type { Db } from '../../db/database.js';
import { archiveDdl, archiveUpgradeStatements, archiveUpToDateQuery } from '../../sql/archive-plan.js';
import { sqlStateOf } from '../../db/database-error.js';
import { inTransaction } from '../../db/transaction.js';

/**
 * Creates the archive schema and tables if missing (never drops them), and
 * upgrades a runs table from the previous version; the ALTER (an exclusive
 * lock on the runs table) only runs when the columns are missing.
 */
export async function ensureArchive(connection: Db, schema: string): Promise<void> {
  const create = () =>
    inTransaction(connection, async () => {
      for (const statement of archiveDdl(schema)) await statement.execute(connection);
      const upToDate = (await archiveUpToDateQuery(schema).execute(connection)).rows[0]?.up_to_date === true;
      if (!upToDate) for (const statement of archiveUpgradeStatements(schema)) await statement.execute(connection);
    });
  try {
    await create();
  } catch (error) {
    // Two first runs (on different tables) can race on CREATE … IF NOT EXISTS; the second attempt sees the winner's tables.
    if (sqlStateOf(error) !== '23505' && sqlStateOf(error) !== '42P07') throw error;
    await create();
  }
}
