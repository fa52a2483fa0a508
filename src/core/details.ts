import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { stringify } from 'csv-stringify';
import type { Database } from '../db/database.js';
import { forEachBatch } from '../db/cursor.js';
import { independentSessions, type ReadSessions } from '../db/shared-snapshot.js';
import type { ResolvedKey } from '../keys/key-definition.js';
import { DETAIL_COLUMNS, detailsCopyStatement, detailsQuery } from '../sql/details-plan.js';

export interface DetailsSummary {
  /** Rows written per key name. */
  rowsPerKey: Record<string, number>;
}

/** The export's columns: the details columns, then the table's own. */
export function detailColumns(keys: ResolvedKey[]): string[] {
  return [...DETAIL_COLUMNS, ...(keys[0]?.table.info.columns.map((c) => c.name) ?? [])];
}

/**
 * Writes every row in a duplicate group as CSV (one header, then key after
 * key) into `destination`, which the caller opens and closes. On a server
 * PostgreSQL formats the CSV itself through COPY (as a DBA's
 * \\copy would); on PGlite rows come through a cursor and csv-stringify. Both
 * paths stream, and the query casts every value to text so they agree.
 * With `sessions` sharing a snapshot (db/shared-snapshot.ts) the COPY reads
 * that snapshot, so the export agrees with a scan run in the same sessions.
 */
export async function exportDetails(
  database: Database,
  keys: ResolvedKey[],
  destination: Writable,
  sessions: ReadSessions = independentSessions(database),
): Promise<DetailsSummary> {
  const rowsPerKey: Record<string, number> = {};
  for (const [index, key] of keys.entries()) {
    const header = index === 0;
    rowsPerKey[key.name] = database.copyOut
      ? await database.copyOut(detailsCopyStatement(key, header).compile(database.db).sql, destination, sessions.snapshotId)
      : await streamThroughCursor(database, key, header, destination);
  }
  return { rowsPerKey };
}

async function streamThroughCursor(database: Database, key: ResolvedKey, header: boolean, destination: Writable): Promise<number> {
  const csv = stringify({ header, columns: detailColumns([key]) });
  csv.pipe(destination, { end: false });
  let rows = 0;
  await forEachBatch(database.db, detailsQuery(key), 5000, async (batch) => {
    rows += batch.length;
    for (const row of batch) if (!csv.write(row)) await once(csv, 'drain');
  });
  csv.end();
  await once(csv, 'end');
  return rows;
}
