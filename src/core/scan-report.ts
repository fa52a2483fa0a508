import type { KeySummary } from '../keys/key-summary.js';
import type { SurplusLimit } from './surplus-limit.js';

/** What `scan` found; every renderer takes exactly this. */
export interface ScanReport {
  /** schema-qualified, e.g. "public.leads" */
  table: string;
  rows: number;
  keys: KeyReport[];
  /** Presets this table cannot hold (a column is missing), left out of an all-presets scan. */
  skippedKeys: { name: string; reason: string }[];
  /** Measured on a monotonic clock around the scan's statements. */
  durationMs: number;
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
