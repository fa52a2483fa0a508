import { findColumn, qualifiedName } from '../../db/catalog.js';
import type { Database } from '../../db/database.js';
import { nullableNumber, rowNumber } from '../../db/row-numbers.js';
import type { LeadTable, ResolvedKey } from '../../keys/key-definition.js';
import {
  incrementalKeyScanQuery,
  LATEST_ZONE_OFFSET_MS,
  openTransactionsQuery,
  scanStartQuery,
  wallMarkQuery,
  type IncrementalKeyScanRow,
  type IncrementalWindow,
  type WindowBound,
} from '../sql/since-sql.js';
import { keyScanQuery, rowCountQuery } from '../sql/scan-sql.js';
import { toKeyReport, type ScanOptions } from '../scan.js';
import type { KeyReport, ScanReport, SinceWatermarkReport } from '../scan-report.js';
import { DEFAULT_OVERLAP_MS, type SinceSpec } from './since.js';
import { REPORTED_IDS_LIMIT, watermarkId, watermarkKeyOf, type WatermarkState } from './watermark-key.js';

export interface IncrementalScanOptions extends ScanOptions {
  /**
   * The validated date/time columns that define the window: the created column, and --changed-column
   * when given (its changes count in addition); the last one names the watermark (watermark-key.ts), as it did
   * when --changed-column replaced the created column.
   */
  windowColumns: string[];
  since: SinceSpec;
  /** For `since.kind === 'last'`: the previous run's state per key (watermarkId); a key without one is scanned whole. */
  watermarks?: ReadonlyMap<string, WatermarkState>;
  /** Why the store keeps only watermarks (said in the report's warnings); null when it keeps everything. */
  storeLimitation?: string | null;
}

/** A scan report and, for `--since last`, each key's state to store once the report is out (in `report.keys` order). */
export interface IncrementalScanResult {
  report: ScanReport;
  states: WatermarkState[] | null;
}

/** A column without a time zone (`timestamp`, `date`): its values are wall times of whatever zone the writer's session had. */
export function isZoneless(table: LeadTable, column: string): boolean {
  return !/with time zone/.test(findColumn(table.info, column)?.type ?? '');
}

interface RunClock {
  /** The server's clock before any statement of the scan. */
  now: Date;
  /** The next watermark: `now`, or the start of the oldest transaction still open (it may yet commit rows created then). */
  until: Date;
  heldBack: SinceWatermarkReport['heldBack'];
  hiddenTransactions: number;
  /** Per zoneless window column (--since last only): its greatest value not in the future anywhere, as UTC wall time. */
  wallMarks: Record<string, Date | null>;
}

/**
 * `scan --since`: per key, the duplicate groups holding a row of the window
 * (created, or changed with --changed-column, at or after the key's
 * `since`; or with no created time at all), judged against the whole table
 * (sql/since-sql.ts). `until`, the next watermark, is the server's
 * clock read before any statement starts, held back to the start of the
 * oldest transaction another session has open in this database (whose rows
 * may carry that start as their created time and commit later). A key with
 * no watermark yet gets the full scan (`since` null). Nothing the window
 * cannot place is skipped silently: rows without a created time, rows dated
 * in the future, transactions this role may not see and a store that keeps
 * less than the run needs are counted in the report and named in its warnings.
 */
export async function scanSince(database: Database, options: IncrementalScanOptions): Promise<IncrementalScanResult> {
  const started = performance.now();
  const last = options.since.kind === 'last';
  const start = (await scanStartQuery(options.table.info.oid).execute(database.db)).rows[0]!;
  const clock = await readClock(database, options, new Date(rowNumber(start.now_ms, 'now_ms')));
  const windows = options.keys.map((key) => keyWindow(options, key, clock));
  // The exact count only when a key is scanned whole anyway (or the catalog has no estimate yet).
  const exact = windows.some((window) => window.window === null) || start.estimated_rows === null;
  const [counted, scanned] = await Promise.all([
    exact ? rowCountQuery(options).execute(database.db) : null,
    Promise.all(windows.map((window) => scanKey(database, options, window, clock))),
  ]);
  const rows = { n: rowNumber(counted === null ? start.estimated_rows : counted.rows[0]?.n, 'n'), estimated: counted === null };
  const warnings = runWarnings(options, clock, scanned);
  const report: ScanReport = {
    table: qualifiedName(options.table.info),
    mode: 'incremental',
    rows: rows.n,
    distribution: options.table.info.distribution,
    rowsEstimated: rows.estimated,
    keys: scanned.map(({ report: key }) => (key.since === null ? { ...key, newRows: rows.n } : key)),
    skippedKeys: options.skippedKeys ?? [],
    durationMs: Math.round(performance.now() - started),
    ...(last ? { watermark: { until: clock.until.toISOString(), heldBack: clock.heldBack, hiddenTransactions: clock.hiddenTransactions } } : {}),
    warnings,
  };
  return { report, states: last ? scanned.map((key) => key.state!) : null };
}

async function readClock(database: Database, options: IncrementalScanOptions, now: Date): Promise<RunClock> {
  const clock: RunClock = { now, until: now, heldBack: null, hiddenTransactions: 0, wallMarks: {} };
  if (options.since.kind !== 'last') return clock;
  const open = (await openTransactionsQuery().execute(database.db)).rows[0]!;
  clock.hiddenTransactions = rowNumber(open.hidden, 'hidden');
  // null: no transaction open
  const oldestMs = nullableNumber(open.oldest_ms, 'oldest_ms');
  if (oldestMs !== null && oldestMs < now.getTime()) {
    clock.until = new Date(oldestMs);
    clock.heldBack = { pid: open.oldest_pid!, application: open.oldest_application ?? '', since: clock.until.toISOString() };
  }
  const cap = new Date(now.getTime() + LATEST_ZONE_OFFSET_MS);
  for (const column of options.windowColumns.filter((c) => isZoneless(options.table, c))) {
    const { rows } = await wallMarkQuery(options.table, column, cap).execute(database.db);
    // null: no row with a value in the column
    const markMs = nullableNumber(rows[0]?.mark_ms, 'mark_ms');
    clock.wallMarks[column] = markMs === null ? null : new Date(markMs);
  }
  return clock;
}

interface KeyWindow {
  key: ResolvedKey;
  /** null: no watermark yet, the key is scanned whole. */
  window: IncrementalWindow | null;
  /** Where the window starts, as the report shows it (the earliest bound); null when scanned whole. */
  since: Date | null;
  /** For --since last: the state this run leaves (its reported ids filled in by the scan). */
  next: WatermarkState | null;
  /** The next run's window (the rows whose surplus is remembered as reported). */
  remember: IncrementalWindow | null;
}

/** Where a key's window starts: the given time, now minus a duration, or its watermark minus the overlap (null: none yet). */
export function windowStart(options: Pick<IncrementalScanOptions, 'since' | 'watermarks' | 'windowColumns'>, key: ResolvedKey, until: Date): Date | null {
  const since = options.since;
  switch (since.kind) {
    case 'at':
      return since.at;
    case 'ago':
      return new Date(until.getTime() - since.ms);
    case 'last': {
      const state = options.watermarks?.get(watermarkId(watermarkKeyOf(key, options.windowColumns.at(-1)!)));
      return state === undefined ? null : new Date(state.watermark.getTime() - since.overlapMs);
    }
    default:
      return since satisfies never;
  }
}

/** A state's window: each column from the watermark minus the overlap, and a zoneless column also from its own mark minus the overlap. */
function boundsOf(columns: string[], table: LeadTable, state: Pick<WatermarkState, 'watermark' | 'wallMarks'>, overlapMs: number): WindowBound[] {
  return columns.flatMap((column) => {
    const bounds: WindowBound[] = [{ column, at: new Date(state.watermark.getTime() - overlapMs), wallTime: false }];
    const mark = state.wallMarks[column];
    if (mark !== undefined && isZoneless(table, column)) bounds.push({ column, at: new Date(mark.getTime() - overlapMs), wallTime: true });
    return bounds;
  });
}

function keyWindow(options: IncrementalScanOptions, key: ResolvedKey, clock: RunClock): KeyWindow {
  const columns = options.windowColumns;
  const table = options.table;
  // Future-dated: after the clock; a zoneless value only when it is after the clock in every zone (UTC+14).
  const future = columns.map((column) =>
    isZoneless(table, column)
      ? { column, at: new Date(clock.now.getTime() + LATEST_ZONE_OFFSET_MS), wallTime: true }
      : { column, at: clock.now, wallTime: false },
  );
  const base = { undatedColumn: table.createdColumn, future, rememberLimit: REPORTED_IDS_LIMIT };
  if (options.since.kind !== 'last') {
    const since = windowStart(options, key, clock.now)!;
    return {
      key,
      since,
      next: null,
      remember: null,
      window: { ...base, bounds: columns.map((column) => ({ column, at: since, wallTime: false })), reported: [], remember: null },
    };
  }
  const overlapMs = options.since.overlapMs;
  const previous = options.watermarks?.get(watermarkId(watermarkKeyOf(key, columns.at(-1)!)));
  const wallMarks: Record<string, Date> = {};
  for (const column of columns) {
    const mark = clock.wallMarks[column] ?? previous?.wallMarks[column] ?? null;
    if (mark !== null) wallMarks[column] = mark;
  }
  const next: WatermarkState = { watermark: clock.until, wallMarks, reported: [] };
  // The next run may use another --overlap than this one (a cron line at the default after a manual --overlap 0): its
  // window is remembered as at least the default's.
  const rememberBounds = boundsOf(columns, table, next, Math.max(overlapMs, DEFAULT_OVERLAP_MS));
  const remember: IncrementalWindow = { ...base, bounds: rememberBounds, reported: [], remember: rememberBounds };
  if (previous === undefined) return { key, since: null, next, remember, window: null };
  const bounds = boundsOf(columns, table, previous, overlapMs);
  const since = new Date(Math.min(...bounds.filter((bound) => !bound.wallTime).map((bound) => bound.at.getTime())));
  return { key, since, next, remember, window: { ...base, bounds, reported: previous.reported, remember: rememberBounds } };
}

interface ScannedKey {
  report: KeyReport;
  state: WatermarkState | null;
  rememberedAll: boolean;
}

async function scanKey(database: Database, options: IncrementalScanOptions, planned: KeyWindow, clock: RunClock): Promise<ScannedKey> {
  const { key, window } = planned;
  const until = clock.until.toISOString();
  if (window === null) {
    // No watermark yet: everything is new, and the full scan's one GROUP BY is the cheapest way to count it. The next
    // window's rows are scanned as well, so the surplus they hold is remembered as reported and never alerts twice.
    const [{ rows }, next] = await Promise.all([
      keyScanQuery(key, options.top).execute(database.db),
      incrementalKeyScanQuery(key, planned.remember!, 0).execute(database.db),
    ]);
    const report = toKeyReport(key, rows[0]!);
    const row = next.rows[0]!;
    return withState(planned, row, {
      ...report,
      since: null,
      until,
      newRows: 0,
      newSurplus: report.surplus,
      reportedBefore: 0,
      groupsTouched: report.groups,
      undatedRows: rowNumber(row.undated_rows, 'undated_rows'),
      futureRows: rowNumber(row.future_rows, 'future_rows'),
    });
  }
  const { rows } = await incrementalKeyScanQuery(key, window, options.top).execute(database.db);
  const row = rows[0]!;
  const report = toKeyReport(key, row);
  return withState(planned, row, {
    ...report,
    since: planned.since!.toISOString(),
    until,
    newRows: rowNumber(row.new_rows, 'new_rows'),
    newSurplus: rowNumber(row.new_surplus, 'new_surplus'),
    reportedBefore: rowNumber(row.reported_before, 'reported_before'),
    groupsTouched: report.groups,
    undatedRows: rowNumber(row.undated_rows, 'undated_rows'),
    futureRows: rowNumber(row.future_rows, 'future_rows'),
  });
}

function withState(planned: KeyWindow, row: IncrementalKeyScanRow, report: KeyReport): ScannedKey {
  if (planned.next === null) return { report, state: null, rememberedAll: true };
  const ids = row.remember_ids ?? [];
  return {
    report,
    state: { ...planned.next, reported: ids.slice(0, REPORTED_IDS_LIMIT) },
    rememberedAll: ids.length <= REPORTED_IDS_LIMIT,
  };
}

/** What the run could not see or keep, one line each: counted, never silent. */
function runWarnings(options: IncrementalScanOptions, clock: RunClock, scanned: ScannedKey[]): string[] {
  const warnings: string[] = [];
  const table = qualifiedName(options.table.info);
  if (clock.hiddenTransactions > 0) {
    warnings.push(
      `${clock.hiddenTransactions} other session(s) of this database are hidden from this role (pg_stat_activity shows their transactions only to pg_read_all_stats): a long transaction of theirs that commits after the overlap is missed; grant pg_read_all_stats to this role`,
    );
  }
  for (const { report: key, rememberedAll } of scanned) {
    if ((key.undatedRows ?? 0) > 0 && options.table.createdColumn !== null) {
      warnings.push(
        `key ${key.name}: ${key.undatedRows} row(s) of ${table} have no ${options.table.createdColumn}; no window can place them, so every run scans them (their surplus counts as new once)`,
      );
    }
    if ((key.futureRows ?? 0) > 0) {
      warnings.push(
        `key ${key.name}: ${key.futureRows} row(s) of the window are dated in the future; they stay in every window until then (their surplus counts as new once)`,
      );
    }
    if (!rememberedAll) {
      warnings.push(`key ${key.name}: more than ${REPORTED_IDS_LIMIT} surplus rows to remember as reported; the rest may be reported again by the next run`);
    }
  }
  if (options.since.kind === 'last' && options.storeLimitation) warnings.push(options.storeLimitation);
  return warnings;
}
