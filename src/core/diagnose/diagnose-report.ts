import type { KeySummary } from '../../keys/key-summary.js';
import type { TrendInterval } from '../../sql/diagnose-plan.js';

/** What `diagnose` found for one key; every renderer (table, json, csv, the HTML report) takes exactly this. */
export interface DiagnoseReport {
  /** schema-qualified, e.g. "public.leads" */
  table: string;
  rows: number;
  key: KeySummary;
  groups: number;
  rowsInGroups: number;
  /** Rows beyond one per group; every figure below that counts duplicates adds up to this. */
  surplus: number;
  /** Gap of each duplicate to the previous row of its group; upToMs null is the open-ended bucket. */
  gaps: { upToMs: number | null; duplicates: number }[];
  /** Duplicates whose gap is unknown: its created time or the previous row's is NULL. */
  gapsUnknown: number;
  cause: CauseCounts & { raceWindowMs: number; retryWindowMs: number };
  trend: Trend;
  /** Per compared column: groups with a later copy that differs from the oldest, and such later copies. */
  columnsThatDiffer: { column: string; groups: number; rows: number; rowsDifferingOnlyHere: number }[];
  /** Groups with a later copy that differs from the oldest in any compared column. */
  groupsThatDiffer: number;
  /** Per compared column: groups with a later copy that fills a value the oldest lacks (NULL or blank), and such copies. */
  laterCopiesAddData: { column: string; groups: number; rows: number }[];
  groupsWithAddedData: number;
  /** Phone-based keys only: how phones spread over devices and users in the whole table. */
  phones: PhoneSpread | null;
  by?: BySplit;
  answers: { question: string; answer: string }[];
  durationMs: number;
}

export interface CauseCounts {
  /** gap ≤ race window: concurrent calls */
  race: number;
  /** gap ≤ retry window: retries */
  retry: number;
  /** longer gaps: a person submitting again */
  resubmission: number;
  /** a created time is missing */
  unknown: number;
}

export interface Trend {
  interval: TrendInterval;
  days: number;
  /** Newest created time in the table, the end of the window (ISO, UTC). */
  newestCreatedAt: string | null;
  /** One point per day (UTC) or ISO week; start is YYYY-MM-DD. */
  points: { start: string; leads: number; duplicates: number }[];
  lastDuplicateAt: string | null;
  /** Duplicates created in the 24 hours / 7 days up to the newest created time. */
  last24h: number;
  last7d: number;
  /** The server's clock when diagnosed (ISO, UTC): "the last 7 days" read as from now. */
  serverNow: string;
  /** Duplicates created in the 24 hours / 7 days before serverNow. */
  last24hBeforeNow: number;
  last7dBeforeNow: number;
}

export interface PhoneSpread {
  /** The key's phone column (normalised with e164, or named phone after --map), and the device and user columns the table has. */
  column: string;
  deviceColumn: string | null;
  userColumn: string | null;
  /** Distinct (normalised) phones in the table. */
  phones: number;
  onSeveralDevices: number;
  forSeveralUsers: number;
}

export interface BySplit {
  column: string;
  /** Distinct values among the duplicates. */
  distinctValues: number;
  /** The 20 values with most surplus rows. */
  values: ({ value: string | null; surplus: number } & CauseCounts)[];
  /** The other values together; null when there are at most 20. */
  otherValues: ({ surplus: number } & CauseCounts) | null;
}
