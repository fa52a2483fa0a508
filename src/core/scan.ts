import type { Database } from '../db/database.js';
import { toNumber } from '../db/database.js';
import { qualifiedName } from '../db/catalog.js';
import { independentSessions, type ReadSessions } from '../db/shared-snapshot.js';
import type { LeadTable, ResolvedKey } from '../keys/key-definition.js';
import { keyScanQuery, rowCountQuery, SIZE_BUCKETS, type KeyScanRow } from '../sql/scan-plan.js';
import { summarizeKey } from '../keys/key-summary.js';
import type { KeyReport, ScanReport } from './scan-report.js';

export interface ScanOptions {
  table: LeadTable;
  keys: ResolvedKey[];
  skippedKeys?: { name: string; reason: string }[];
  /** How many of the largest groups to list per key. */
  top: number;
}

/**
 * Counts duplicates under each key inside PostgreSQL: one hash aggregate
 * per key. All statements are issued at once: on a server the pool runs
 * them on parallel connections (bench/README.md, B3: independent hash passes beat
 * one GROUPING SETS pass at 5M rows); PGlite runs them one after another.
 * `sessions` says where they run: by default each on any pooled connection;
 * with a shared snapshot (db/shared-snapshot.ts) all of them, and a details
 * export beside them, read the same rows.
 */
export async function scan(database: Database, options: ScanOptions, sessions: ReadSessions = independentSessions(database)): Promise<ScanReport> {
  const started = performance.now();
  const [rows, keys] = await Promise.all([
    // Serially: a parallel count took the cores the key's aggregate beside it was using (bench/README.md, B12).
    sessions.runSerially((db) => rowCountQuery(options).execute(db)).then((result) => toNumber(result.rows[0]?.n)),
    Promise.all(
      options.keys.map(async (key) => {
        const result = await sessions.run((db) => keyScanQuery(key, options.top).execute(db));
        return toKeyReport(key, result.rows[0]!);
      }),
    ),
  ]);
  return {
    table: qualifiedName(options.table.info),
    mode: 'full',
    rows,
    distribution: options.table.info.distribution,
    keys,
    skippedKeys: options.skippedKeys ?? [],
    durationMs: Math.round(performance.now() - started),
  };
}

/**
 * Whether the scan's sessions let one statement use the server's parallel
 * workers (ConnectOptions.parallelWorkers): yes for one key, whose single
 * aggregate then sorts on several cores (at 1M rows, 0.70 s against 0.85 s);
 * no when several keys, or a details export, already run side by side on
 * their own connections and would only compete for the same cores (five
 * presets at 1M: 3.2 s with, 2.6 s without; one key with --details: 2.8 s
 * with, 2.1 s without).
 */
export function scanUsesParallelWorkers(keysNamed: number, details: boolean): boolean {
  return keysNamed === 1 && !details;
}

export function toKeyReport(key: ResolvedKey, row: KeyScanRow): KeyReport {
  const groups = toNumber(row.groups);
  const rowsInGroups = toNumber(row.rows_in_groups);
  return {
    ...summarizeKey(key),
    groups,
    rowsInGroups,
    surplus: rowsInGroups - groups,
    largestGroup: toNumber(row.largest),
    sizes: SIZE_BUCKETS.map((bucket, index) => ({ size: bucket.label, groups: toNumber(row.buckets[index]) })),
    top: (row.top ?? []).map((group) => ({
      key: Object.fromEntries(key.columns.map((c, index) => [c.column, group.key[index]])),
      count: toNumber(group.n),
      firstCreated: group.first_at,
      lastCreated: group.last_at,
      ids: group.ids,
    })),
  };
}
