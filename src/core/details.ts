import type { Database } from '../db/database.js';
import { forEachBatch } from '../db/cursor.js';
import type { ResolvedKey } from '../keys/key-definition.js';
import { DETAIL_COLUMNS, detailsQuery } from '../sql/details-plan.js';

export interface DetailsSummary {
  /** Rows written per key name. */
  rowsPerKey: Record<string, number>;
}

export type DetailRow = Record<string, unknown>;

/** The export's columns: the details columns, then the table's own. */
export function detailColumns(keys: ResolvedKey[]): string[] {
  return [...DETAIL_COLUMNS, ...(keys[0]?.table.info.columns.map((c) => c.name) ?? [])];
}

/**
 * Streams every row in a duplicate group, key after key, to `write` in
 * batches; the caller decides where they go (render/csv-file.ts).
 */
export async function streamDetails(
  database: Database,
  keys: ResolvedKey[],
  write: (rows: DetailRow[]) => Promise<void>,
  batchSize = 5000,
): Promise<DetailsSummary> {
  const rowsPerKey: Record<string, number> = {};
  for (const key of keys) {
    rowsPerKey[key.name] = 0;
    await forEachBatch(database.db, detailsQuery(key), batchSize, async (rows) => {
      rowsPerKey[key.name]! += rows.length;
      await write(rows);
    });
  }
  return { rowsPerKey };
}
