import { qualifiedName } from '../../db/catalog.js';
import type { Database } from '../../db/database.js';
import { toNumber } from '../../db/database.js';
import type { ResolvedKey } from '../../keys/key-definition.js';
import { incrementalKeyScanQuery, scanStartQuery } from '../../sql/incremental-scan-plan.js';
import { keyScanQuery, rowCountQuery } from '../../sql/scan-plan.js';
import { toKeyReport, type ScanOptions } from '../scan.js';
import type { KeyReport, ScanReport } from '../scan-report.js';
import type { SinceSpec } from './since.js';
import { watermarkId, watermarkKeyOf } from './watermark-key.js';

export interface IncrementalScanOptions extends ScanOptions {
  /** The validated date/time column that defines the window: the created column, or --changed-column. */
  windowColumn: string;
  since: SinceSpec;
  /** For `since.kind === 'last'`: the previous run's watermark per key (watermarkId); a key without one is scanned whole. */
  watermarks?: ReadonlyMap<string, Date>;
}

/**
 * `scan --since`: per key, the duplicate groups holding a row whose window
 * column is at or after the key's `since`, judged against the whole table
 * (incremental-scan-plan.ts). `until` is the server's clock read before any
 * statement starts, so it is never later than the snapshots that counted:
 * the caller stores it as the next watermark once its output is written.
 * A key with no watermark yet gets the full scan (`since` null).
 */
export async function scanSince(database: Database, options: IncrementalScanOptions): Promise<ScanReport> {
  const started = performance.now();
  const start = (await scanStartQuery(options.table.info.oid).execute(database.db)).rows[0]!;
  const until = new Date(toNumber(start.now_ms));
  const windows = options.keys.map((key) => ({ key, since: windowStart(options, key, until) }));
  // The exact count only when a key is scanned whole anyway (or the catalog has no estimate yet).
  const exact = windows.some((window) => window.since === null) || start.estimated_rows === null;
  const [counted, keys] = await Promise.all([
    exact ? rowCountQuery(options).execute(database.db) : null,
    Promise.all(windows.map(({ key, since }) => scanKey(database, options, key, since, until))),
  ]);
  const rows = { n: toNumber(counted === null ? start.estimated_rows : counted.rows[0]?.n), estimated: counted === null };
  const wholeRows = rows.n;
  return {
    table: qualifiedName(options.table.info),
    mode: 'incremental',
    rows: rows.n,
    distribution: options.table.info.distribution,
    rowsEstimated: rows.estimated,
    keys: keys.map((key) => (key.since === null ? { ...key, newRows: wholeRows } : key)),
    skippedKeys: options.skippedKeys ?? [],
    durationMs: Math.round(performance.now() - started),
  };
}

/** Where a key's window starts: the given time, now minus a duration, or its watermark minus the overlap (null: none yet). */
export function windowStart(options: Pick<IncrementalScanOptions, 'since' | 'watermarks' | 'windowColumn'>, key: ResolvedKey, until: Date): Date | null {
  const since = options.since;
  switch (since.kind) {
    case 'at':
      return since.at;
    case 'ago':
      return new Date(until.getTime() - since.ms);
    case 'last': {
      const watermark = options.watermarks?.get(watermarkId(watermarkKeyOf(key, options.windowColumn)));
      return watermark === undefined ? null : new Date(watermark.getTime() - since.overlapMs);
    }
    default:
      return since satisfies never;
  }
}

async function scanKey(database: Database, options: IncrementalScanOptions, key: ResolvedKey, since: Date | null, until: Date): Promise<KeyReport> {
  if (since === null) {
    // No watermark yet: everything is new, and the full scan's one GROUP BY is the cheapest way to count it.
    const { rows } = await keyScanQuery(key, options.top).execute(database.db);
    const report = toKeyReport(key, rows[0]!);
    return { ...report, since: null, until: until.toISOString(), newRows: 0, newSurplus: report.surplus, groupsTouched: report.groups };
  }
  const { rows } = await incrementalKeyScanQuery(key, options.windowColumn, since, options.top).execute(database.db);
  const row = rows[0]!;
  const report = toKeyReport(key, row);
  return {
    ...report,
    since: since.toISOString(),
    until: until.toISOString(),
    newRows: toNumber(row.new_rows),
    newSurplus: toNumber(row.new_surplus),
    groupsTouched: report.groups,
  };
}
