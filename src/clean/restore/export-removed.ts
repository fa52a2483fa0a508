import type { Database } from '../../db/database.js';
import { forEachBatch } from '../../db/cursor.js';
import type { LeadTable } from '../../keys/key-definition.js';
import { removedRowsQuery } from './removed-rows-sql.js';

export const REMOVED_EXTRA_COLUMNS = ['run_id', 'batch_no', 'group_id', 'keeper_id'] as const;

export function removedColumns(table: LeadTable): string[] {
  return [...REMOVED_EXTRA_COLUMNS, ...table.info.columns.map((c) => c.name)];
}

/**
 * Streams a run's removed rows from the archive (where they were written in
 * each batch's transaction), oldest batch first, to `write`: the values as
 * PostgreSQL stored them (jsonb text), through a server-side cursor.
 */
export async function streamRemovedRows(
  database: Database,
  { archiveSchema, runId, table }: { archiveSchema: string; runId: number; table: LeadTable },
  write: (rows: Record<string, unknown>[]) => Promise<void>,
): Promise<number> {
  const query = removedRowsQuery(
    archiveSchema,
    runId,
    table.info.columns.map((c) => c.name),
  );
  let written = 0;
  await forEachBatch(database.db, query, 5000, async (rows) => {
    written += rows.length;
    await write(rows);
  });
  return written;
}
