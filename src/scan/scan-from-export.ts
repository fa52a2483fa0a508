import type { Database } from '../db/database.js';
import { qualifiedName } from '../db/catalog.js';
import { rowNumber } from '../db/row-numbers.js';
import type { ReadSessions } from '../db/shared-snapshot.js';
import { hasUniqueIndexOn } from '../db/unique-indexes.js';
import { rowOrder } from '../keys/row-order.js';
import { GroupFigures } from './group-figures.js';
import { toKeyReport, type ScanOptions } from './scan.js';
import type { ScanReport } from './scan-report.js';
import { rowCountQuery, type TopGroupRow } from './sql/scan-sql.js';
import { topGroupsByIdsQuery } from './sql/top-groups-by-ids-sql.js';

/**
 * Whether `scan --details` can take the report's figures from the export's
 * own rows (scanFromExport) instead of running the scan's aggregate beside
 * it: the top groups are then read back by their ids, which must be unique
 * (a unique index on the id column), and a Citus distributed table keeps
 * its own scan path (its row count comes from the key's aggregate, B15).
 */
export async function canScanFromExport(database: Database, options: ScanOptions): Promise<boolean> {
  if (options.table.info.distribution?.kind === 'distributed') return false;
  return hasUniqueIndexOn(database.db, options.table.info.oid, options.table.idColumn);
}

/**
 * `scan --details` with one aggregate per key instead of two: the export
 * (`exportWith`, given one GroupFigures per key to feed) writes every row of
 * every duplicate group anyway, so the summary, the histogram and which
 * groups are the largest are counted from those rows as they go by; the
 * table's row count runs beside it, and the top groups' details (their key
 * values, times and five oldest ids, as keyScanQuery reports them) come
 * from one lookup of their ids after it, all in `sessions`' snapshot. The
 * report is the one `scan` prints (test/integration/scan-details-report.test.ts).
 * Settled like Promise.allSettled over the scan and the export, so the
 * caller can discard the export when the scan failed.
 */
export async function scanFromExport<T>(
  options: ScanOptions,
  sessions: ReadSessions,
  exportWith: (figures: readonly GroupFigures[]) => Promise<T>,
): Promise<[PromiseSettledResult<ScanReport>, PromiseSettledResult<T>]> {
  const started = performance.now();
  const figures = options.keys.map(() => new GroupFigures(options.top));
  const counted = sessions.runSerially((db) => rowCountQuery(options).execute(db)).then((result) => rowNumber(result.rows[0]?.n, 'n'));
  const [rows, exported] = await Promise.allSettled([counted, exportWith(figures)]);
  if (exported.status === 'rejected') return [rows.status === 'rejected' ? rows : { status: 'rejected', reason: exported.reason }, exported];
  if (rows.status === 'rejected') return [rows, exported];
  try {
    const keys = [];
    for (const [index, key] of options.keys.entries()) {
      const ids = figures[index]!.topGroupIds();
      const top: TopGroupRow[] | null = ids.length === 0 ? null : (await sessions.run((db) => topGroupsByIdsQuery(key, ids).execute(db))).rows[0]!.top;
      keys.push(toKeyReport(key, { ...figures[index]!.summary(), top }));
    }
    const report: ScanReport = {
      table: qualifiedName(options.table.info),
      mode: 'full',
      rows: rows.value,
      distribution: options.table.info.distribution,
      keys,
      skippedKeys: options.skippedKeys ?? [],
      rowOrder: rowOrder(options.table),
      durationMs: Math.round(performance.now() - started),
    };
    return [{ status: 'fulfilled', value: report }, exported];
  } catch (error) {
    return [{ status: 'rejected', reason: error }, exported];
  }
}
