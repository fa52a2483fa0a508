import type { Db } from '../../db/database.js';
import { addMergedDataColumnStatement, archiveDdl, mergedDataColumnExistsQuery } from '../../sql/archive-plan.js';
import { sqlStateOf } from '../../db/database-error.js';
import { inTransaction } from '../../db/transaction.js';

/** Creates the archive schema and tables if missing (never drops them; the only change to an existing archive is a column it lacks). */
export async function ensureArchive(connection: Db, schema: string): Promise<void> {
  const create = () =>
    inTransaction(connection, async () => {
      for (const statement of archiveDdl(schema)) await statement.execute(connection);
      // Checked first: ALTER needs the archive's owner even when the column is already there.
      const present = (await mergedDataColumnExistsQuery(schema).execute(connection)).rows[0]?.present ?? false;
      if (!present) await addMergedDataColumnStatement(schema).execute(connection);
    });
  try {
    await create();
  } catch (error) {
    // Two first runs (on different tables) can race on CREATE … IF NOT EXISTS; the second attempt sees the winner's tables.
    if (sqlStateOf(error) !== '23505' && sqlStateOf(error) !== '42P07') throw error;
    await create();
  }
}
