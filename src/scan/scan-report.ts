import type { TableDistribution } from '../db/distribution.js';
import type { KeySummary } from '../keys/key-summary.js';
import type { SurplusLimit } from '../core/surplus-limit.js';
import type { RowOrder } from '../keys/row-order.js';
import type { SkippedKey } from '../keys/skipped-keys.js';

/** What `scan` found; every renderer takes exactly this. */
export interface ScanReport {
  /** schema-qualified, e.g. "public.leads" */
  table: string;
  /** full: every group of the table; incremental (scan --since): the groups the window's rows belong to. */
  mode: 'full' | 'incremental';
  rows: number;
  /** How Citus places the table; null without Citus (a single server). */
  distribution: TableDistribution | null;
  /** true when `rows` is the planner's estimate (pg_class density times the current size): an incremental scan does not count the whole table. */
  rowsEstimated?: boolean;
  keys: KeyReport[];
  /** Presets this table cannot hold (a column is missing), left out of an all-presets scan. */
  skippedKeys: SkippedKey[];
  /**
   * What ranks a group's rows "oldest first" (the ids listed, the default keeper): set by a full
   * scan; `arbitrary` when neither a created column nor an id that grows with time orders them.
   */
  rowOrder?: RowOrder;
  /** Measured on a monotonic clock around the scan's statements. */
  durationMs: number;
  /** `scan --since last`: the watermark this run leaves, and whether an open transaction held it back. */
  watermark?: SinceWatermarkReport;
  /** `scan --since`: what the window could not place or the run could not see, one sentence each (also on stderr). */
  warnings?: string[];
  /** Set when the caller gave a limit (`--max-surplus`, `--fail-on-duplicates`): the keys above it. */
  surplusLimit?: SurplusLimit;
}

export interface KeyReport extends KeySummary {
  groups: number;
  rowsInGroups: number;
  /** Rows beyond one per group: what a clean-up removes. */
  surplus: number;
  largestGroup: number;
  sizes: { size: string; groups: number }[];
  top: TopGroup[];
  /**
   * Incremental mode only (scan --since). The window: rows whose created
   * (or --changed-column) time is at or after `since`, ISO 8601; null when
   * there was no watermark yet and the whole table was scanned.
   */
  since?: string | null;
  /** The server's clock when the scan began, never later than its snapshot: the next watermark. */
  until?: string;
  /** Rows in the window (the whole table when `since` is null). */
  newRows?: number;
  /** Rows in the window that are not the oldest of their group: what the window added to the surplus. */
  newSurplus?: number;
  /** Duplicate groups holding at least one row of the window (in incremental mode `groups` counts the same groups). */
  groupsTouched?: number;
  /** Surplus rows of the window an earlier `--since last` run reported already: not counted in `newSurplus` again. */
  reportedBefore?: number;
  /** Rows with no created time: no window can place them, so every window holds them. */
  undatedRows?: number;
  /** Rows of the window dated after the run's clock (for a zoneless column: after it in every time zone). */
  futureRows?: number;
}

export interface SinceWatermarkReport {
  /** The next watermark, ISO 8601. */
  until: string;
  /** Set when a transaction open in this database since before the clock held the watermark back to its start. */
  heldBack: { pid: number; application: string; since: string } | null;
  /** Sessions of this database whose transactions this role may not see (no pg_read_all_stats). */
  hiddenTransactions: number;
}

export interface TopGroup {
  /** Real column name → normalised key value. */
  key: Record<string, unknown>;
  count: number;
  firstCreated: string | null;
  lastCreated: string | null;
  /** Up to five ids, oldest first (the first is the default keeper). */
  ids: unknown[];
}
