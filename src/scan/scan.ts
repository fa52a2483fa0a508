import type { Database } from '../db/database.js';
import { nullableNumber, rowNumber } from '../db/row-numbers.js';
import { qualifiedName } from '../db/catalog.js';
import { independentSessions, withOneConnection, withSharedSnapshot, type ReadSessions } from '../db/shared-snapshot.js';
import type { LeadTable, ResolvedKey } from '../keys/key-definition.js';
import { hashPartColumn } from '../sql/hash-part.js';
import { keysInIndexOrder } from '../core/key-order-index.js';
import {
  keyPartScanQuery,
  keyScanQuery,
  keyScanWithRowCountQuery,
  rowCountQuery,
  SIZE_BUCKETS,
  topGroupsQuery,
  type KeyPartScanRow,
  type KeyScanRow,
} from './sql/scan-sql.js';
import { summarizeKey } from '../keys/key-summary.js';
import { rowOrder } from '../keys/row-order.js';
import type { KeyReport, ScanReport } from './scan-report.js';
import type { SkippedKey } from '../keys/skipped-keys.js';

export interface ScanOptions {
  table: LeadTable;
  keys: ResolvedKey[];
  skippedKeys?: SkippedKey[];
  /** How many of the largest groups to list per key. */
  top: number;
  /**
   * Into how many statements, on as many connections, one key's aggregate is
   * split by a hash of the key (sql/hash-part.ts); 1 (the default) runs it
   * whole. Only on a server and a table Citus does not already split.
   */
  parts?: number;
}

/**
 * Counts duplicates under each key inside PostgreSQL: one hash aggregate
 * per key. All statements are issued at once: on a server the pool runs
 * them on parallel connections (bench/README.md, B3: independent hash passes beat
 * one GROUPING SETS pass at 5M rows); PGlite runs them one after another.
 * `sessions` says where they run: by default each on any pooled connection;
 * with a shared snapshot (db/shared-snapshot.ts) all of them, and a details
 * export beside them, read the same rows. With `parts`, a key's aggregate
 * runs as that many statements side by side (bench/README.md, B13), always
 * in a shared snapshot.
 */
export async function scan(database: Database, options: ScanOptions, sessions: ReadSessions = independentSessions(database)): Promise<ScanReport> {
  const started = performance.now();
  const inIndexOrder = await indexOrderedKeys(database, options);
  const splits = (key: ResolvedKey) => hashPartColumn(key) !== null && !inIndexOrder[options.keys.indexOf(key)];
  const parts = partsFor(database, options, splits);
  // The parts, the row count and the top groups' details read one snapshot, as the whole statement would.
  if (parts > 1 && sessions.snapshotId === null) return withSharedSnapshot(database, (shared) => scanIn(shared));
  // On Citus the statements follow each other on one connection, which keeps its worker connections between them (B17).
  if (distributed(options) && sessions.kind === 'independent') return withOneConnection(database, (one) => scanIn(one));
  return scanIn(sessions);

  async function scanIn(sessions: ReadSessions): Promise<ScanReport> {
    // Serially: a parallel count took the cores the key's aggregate beside it was using (bench/README.md, B12).
    const countRows = () => sessions.runSerially((db) => rowCountQuery(options).execute(db)).then((result) => rowNumber(result.rows[0]?.n, 'n'));
    const scanKeys = (keys = options.keys) =>
      Promise.all(
        keys.map(async (key) => {
          if (parts > 1 && splits(key)) return toKeyReport(key, await scanKeyInParts(sessions, key, options.top, parts));
          const result = await sessions.run((db) => keyScanQuery(key, options.top).execute(db));
          return toKeyReport(key, result.rows[0]!);
        }),
      );
    const rowsAndKeys = async (): Promise<readonly [number, KeyReport[]]> => {
      if (!distributed(options)) return Promise.all([countRows(), scanKeys()]);
      if (options.top === 0 && options.keys.length > 0) {
        // The first key's statement counts the table's rows in its own pass (keyScanWithRowCountQuery, B15), so the
        // shards are not read once more for the count; the other keys follow it on the same connection.
        const [first, ...others] = options.keys as [ResolvedKey, ...ResolvedKey[]];
        const [counted, reports] = await Promise.all([
          sessions.run((db) => keyScanWithRowCountQuery(first).execute(db)).then((result) => result.rows[0]!),
          scanKeys(others),
        ]);
        return [rowNumber(counted.table_rows, 'table_rows'), [toKeyReport(first, counted), ...reports]];
      }
      // On Citus each statement already runs on every shard at once; a count beside the keys only competes with them (B14).
      const keys = await scanKeys();
      return [await countRows(), keys];
    };
    const [rows, keys] = await rowsAndKeys();
    return {
      table: qualifiedName(options.table.info),
      mode: 'full',
      rows,
      distribution: options.table.info.distribution,
      keys,
      skippedKeys: options.skippedKeys ?? [],
      rowOrder: rowOrder(options.table),
      durationMs: Math.round(performance.now() - started),
    };
  }
}

/**
 * Which keys an index reads in key order (key-order-index.ts): such a key
 * runs whole, not in hash parts. Looked up only where parts could be used.
 */
async function indexOrderedKeys(database: Database, options: ScanOptions): Promise<boolean[]> {
  if ((options.parts ?? 1) < 2 || database.features.driver === 'pglite' || distributed(options)) return options.keys.map(() => false);
  return keysInIndexOrder(database, options.table, options.keys);
}

function distributed(options: ScanOptions): boolean {
  return options.table.info.distribution?.kind === 'distributed';
}

/** The parts a pool can run at once beside the snapshot's holder and the row count; 1 where splitting would not help. */
function partsFor(database: Database, options: ScanOptions, splits: (key: ResolvedKey) => boolean): number {
  const splittable = database.features.driver !== 'pglite' && !distributed(options) && options.keys.some(splits);
  const parts = Math.min(options.parts ?? 1, database.features.maxConcurrency - 2);
  return splittable && parts > 1 ? parts : 1;
}

/**
 * One key as `parts` statements side by side, each serial (the parts
 * already take the cores), then one read for the top groups' details.
 * Every group is in exactly one part, so counts and histogram add up.
 */
async function scanKeyInParts(sessions: ReadSessions, key: ResolvedKey, top: number, parts: number): Promise<KeyScanRow> {
  const partRows = await Promise.all(
    Array.from({ length: parts }, (_, index) =>
      sessions.runSerially((db) => keyPartScanQuery(key, top, { index, of: parts }).execute(db)).then((result) => result.rows[0]!),
    ),
  );
  const candidates = partRows.flatMap((row) => (row.top ?? []).map((group) => group.key));
  const topGroups = candidates.length === 0 ? null : (await sessions.run((db) => topGroupsQuery(key, candidates, top).execute(db))).rows[0]!.top;
  return { ...addedUp(partRows), top: topGroups };
}

function addedUp(parts: KeyPartScanRow[]): Omit<KeyScanRow, 'top'> {
  const sum = (column: string, values: (string | number)[]) => values.reduce<number>((total, value) => total + rowNumber(value, column), 0);
  // a part without groups has no largest one (max over no rows is NULL)
  const largest = parts.map((part) => nullableNumber(part.largest, 'largest')).filter((value) => value !== null);
  return {
    groups: sum(
      'groups',
      parts.map((part) => part.groups),
    ),
    rows_in_groups: sum(
      'rows_in_groups',
      parts.map((part) => part.rows_in_groups),
    ),
    largest: largest.length === 0 ? null : Math.max(...largest),
    buckets: SIZE_BUCKETS.map((_, index) =>
      sum(
        'buckets',
        parts.map((part) => part.buckets[index]!),
      ),
    ),
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

/**
 * ScanOptions.parts for the command line: one key alone (the case that
 * scanUsesParallelWorkers also picks) is split into `jobs` parts; beside a
 * details export, or among several keys each on a connection of its own,
 * the cores are taken already.
 */
export function scanKeyParts(keysNamed: number, details: boolean, jobs: number): number {
  return scanUsesParallelWorkers(keysNamed, details) ? jobs : 1;
}

export function toKeyReport(key: ResolvedKey, row: KeyScanRow): KeyReport {
  const groups = rowNumber(row.groups, 'groups');
  const rowsInGroups = rowNumber(row.rows_in_groups, 'rows_in_groups');
  return {
    ...summarizeKey(key),
    groups,
    rowsInGroups,
    surplus: rowsInGroups - groups,
    // max() over no groups is NULL: the report says 0, as for the counts (its JSON field is a number)
    largestGroup: nullableNumber(row.largest, 'largest') ?? 0,
    sizes: SIZE_BUCKETS.map((bucket, index) => ({ size: bucket.label, groups: rowNumber(row.buckets[index], 'buckets') })),
    top: (row.top ?? []).map((group) => ({
      key: Object.fromEntries(key.columns.map((c, index) => [c.column, group.key[index]])),
      count: rowNumber(group.n, 'n'),
      firstCreated: group.first_at,
      lastCreated: group.last_at,
      ids: group.ids,
    })),
  };
}
