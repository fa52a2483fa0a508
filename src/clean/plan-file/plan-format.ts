import type { NormalizeRule } from '../../keys/key-definition.js';
import type { CleanMode, KeepPolicy, MergeRule } from '../model.js';

/**
 * The plan file (`clean --plan-out`), JSON Lines: one JSON object per line,
 * so it is written and read as a stream (memory stays flat for a million
 * groups) and a problem is reported by its line number. Line 1 is the
 * header; then one line per group, per group skipped at planning, per child
 * foreign key (totals); the last line is the end marker, whose absence means
 * the file was cut short.
 */
export const PLAN_FORMAT = 'lead-dedupe-plan';
export const PLAN_FORMAT_VERSION = 1;

export interface PlanDatabaseIdentity {
  /** pg_control_system().system_identifier as text; null when this role may not read it. */
  systemIdentifier: string | null;
  name: string;
  serverVersion: string;
}

export interface PlanKey {
  name: string;
  /** Real column names, in key order. */
  columns: string[];
  /** Column → rule, only for normalised columns. */
  normalize: Record<string, NormalizeRule>;
  nullsEqual: boolean;
  defaultCountry: string | null;
}

export interface PlanTotals {
  groups: number;
  rowsToRemove: number;
  skippedGroups: number;
  /** "schema.table.column" → rows re-pointed. */
  childRows: Record<string, number>;
}

export interface PlanHeader {
  type: 'header';
  format: typeof PLAN_FORMAT;
  formatVersion: number;
  toolVersion: string;
  /** ISO 8601, UTC. */
  createdAt: string;
  database: PlanDatabaseIdentity;
  table: { schema: string; name: string; idColumn: string; createdColumn: string | null };
  key: PlanKey;
  keep: KeepPolicy;
  keeperOrder: string;
  mode: CleanMode;
  mergeRules: Record<string, MergeRule>;
  /** column=rule, the columns merge may fill (empty in delete mode). */
  mergeColumns: string[];
  batchSize: number;
  batchRows: number;
  totals: PlanTotals;
  /** sha256 of every line after this one, as written ("sha256:<hex>"); also the plan's id in the run log. */
  digest: string;
  /**
   * Set by `review`: the sha256 of the lines after this one as the review left them (its statuses changed) and
   * when. A plan whose lines match it is reviewed, not edited; the plan's id stays `digest`.
   */
  reviewed?: { digest: string; at: string };
}

/**
 * A group's review status. Absent: accepted (every plan clean --plan-out
 * writes, and plans written before statuses existed). `suspects --plan-out`
 * writes every group as "needs review"; clean --plan --execute applies only
 * accepted ones and leaves the others untouched.
 */
export const REVIEW_STATUSES = ['needs review', 'accepted', 'rejected'] as const;
export type ReviewStatus = (typeof REVIEW_STATUSES)[number];

export interface PlanGroupLine {
  type: 'group';
  group: string;
  /** Key column → normalised value (what the group id is the md5 of). */
  key: Record<string, unknown>;
  keep: string;
  remove: string[];
  /** id → md5 of the row's text when planned. */
  fingerprints: Record<string, string>;
  /** Merge mode: keeper column → id of the row that fills it. */
  merge?: Record<string, string>;
  /** "schema.table.column" → child rows re-pointed to the keeper. */
  children?: Record<string, number>;
  /**
   * Present: the group was put together for review (suspects), not by the key,
   * so its rows need not carry one key; only their fingerprints are checked.
   */
  review?: ReviewStatus;
}

export interface PlanSkippedLine {
  type: 'skipped';
  group: string;
  reason: string;
}

export interface PlanChildrenLine {
  type: 'children';
  table: string;
  column: string;
  constraint: string;
  rows: number;
}

export interface PlanEndLine {
  type: 'end';
  /** Lines between the header and this one, as written. */
  lines: number;
}

export type PlanBodyLine = PlanGroupLine | PlanSkippedLine | PlanChildrenLine | PlanEndLine;
