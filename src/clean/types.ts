import type { ResolvedKey } from '../keys/key-definition.js';
import type { CommandLineContext } from '../keys/key-command-line.js';
import type { CleanMode, KeepPolicy, MergeRule, RunStatus } from './model.js';
import type { LockBlocker } from '../db/lock-waits.js';

export {
  CLEAN_MODES,
  KEEP_POLICIES,
  MERGE_RULES,
  type ChildReference,
  type CleanMode,
  type KeepPolicy,
  type MergeRule,
  type RunStatus,
} from './model.js';

/** What `clean` does; checked against the catalog before any SQL runs. */
export interface CleanOptions {
  key: ResolvedKey;
  keep: KeepPolicy;
  mode: CleanMode;
  /** Per column; columns not named use `newest`. Only read in merge mode. */
  mergeRules: Record<string, MergeRule>;
  /** Groups per transaction. */
  batchSize: number;
  /** Rows per transaction (the row locks it holds): groups are packed under it, a larger group is removed in chunks. */
  batchRows: number;
  /** Cap on the groups one run handles; null = all. */
  maxGroups: number | null;
  pauseMs: number;
  lockTimeoutMs: number;
  statementTimeoutMs: number;
  /** Where the archive tables live (created on first use, never dropped). */
  archiveSchema: string;
  /** Retries of a batch that hit a lock or statement timeout. */
  retries: number;
  /** How many groups the plan shows with keeper and losers. */
  sampleGroups: number;
}

export interface ChildCount {
  table: string;
  constraint: string;
  column: string;
  rows: number;
}

/** A child foreign key whose referencing column no index starts with: each batch's re-point and delete scan that child. */
export interface UnindexedChildKey {
  schema: string;
  table: string;
  column: string;
  constraint: string;
}

export interface SkippedGroup {
  groupId: string;
  reason: string;
}

export interface SampleGroup {
  groupId: string;
  key: Record<string, unknown>;
  keeper: string;
  losers: string[];
}

/** The dry run: what `--execute` would do, computed on the current data without locking it. */
export interface CleanPlan {
  table: string;
  key: string;
  columns: string[];
  normalize: Record<string, string>;
  nullsEqual: boolean;
  keep: KeepPolicy;
  /** What ranks a group for --keep, e.g. "created_at oldest first, then lowest id". */
  keeperOrder: string;
  mode: CleanMode;
  mergeRules: Record<string, MergeRule>;
  mergeColumns: string[];
  groups: number;
  rowsToRemove: number;
  keepersToMerge: number;
  childRows: ChildCount[];
  skippedGroups: number;
  skipped: SkippedGroup[];
  batches: number;
  batchSize: number;
  batchRows: number;
  sample: SampleGroup[];
  /** Child foreign keys without an index on their column (a warning; nothing is created). */
  unindexedChildKeys: UnindexedChildKey[];
  durationMs: number;
}

export interface CleanHooks {
  /** The first SIGINT/SIGTERM: the run stops after the batch in flight and reports. */
  signal?: AbortSignal;
  /**
   * The second: no further statement of the batch in flight runs, so it rolls
   * back (the caller cancels the one running, Database.cancel), and the run
   * stops and reports.
   */
  cancel?: AbortSignal;
  onProgress?: (progress: CleanProgress) => void;
  /** How a suggested command reaches the same database (the undo line of a failed run). */
  commandLine?: CommandLineContext;
  /** Before the first change: child foreign keys without an index (each batch will scan those children). */
  onUnindexedChildKeys?: (keys: UnindexedChildKey[]) => void;
  /** While a batch waits on a lock: the sessions holding it, polled about once a second; [] once it no longer waits. */
  onLockWait?: (blockers: LockBlocker[]) => void;
}

export interface CleanProgress {
  batch: number;
  batches: number;
  groupsDone: number;
  rowsRemoved: number;
  elapsedMs: number;
}

/** Where a run that did not finish stopped, and what it left. */
export interface CleanStop {
  /** The batch (1-based) that failed or was rolled back; null when the run stopped between batches. */
  batch: number | null;
  /** What went wrong, in words (a timeout named by its flag); null for a signal. */
  error: string | null;
  /** false: the run stopped while staging its duplicate groups (no batch yet; nothing was changed). */
  staged: boolean;
  /** Staged batches not committed (the failed one included). */
  batchesLeft: number;
  /** Staged groups neither cleaned nor skipped: a rerun handles them. */
  groupsLeft: number;
}

export interface CleanResult {
  runId: number;
  status: RunStatus;
  table: string;
  key: string;
  keep: KeepPolicy;
  mode: CleanMode;
  groupsPlanned: number;
  groups: number;
  /** After a run capped by --max-groups: duplicate groups left (skipped ones included); null when not capped. */
  groupsRemaining: number | null;
  rowsRemoved: number;
  rowsMerged: number;
  childRows: ChildCount[];
  skippedGroups: number;
  skipped: SkippedGroup[];
  batches: number;
  batchesDone: number;
  retries: number;
  /** The longest committed batch transaction: the longest any row lock of this run was held. */
  longestBatchMs: number;
  /** The most rows one committed batch locked (at most --batch-rows). */
  largestBatchRows: number;
  archiveSchema: string;
  unindexedChildKeys: UnindexedChildKey[];
  /** Why the run stopped early (interrupted, timed out); null when it finished. */
  stoppedBecause: string | null;
  /** A run that stopped early: where, why, and what is left; null when it finished. */
  stop: CleanStop | null;
  durationMs: number;
  /** `clean --plan`: the plan applied and what it found (stale, already done, new rows); null for a plain clean. */
  plan: PlanApplySummary | null;
}

/** Rows that carry a planned group's key but are not in the plan: left in place, reported. */
export interface NewRows {
  groups: number;
  rows: number;
  /** The first 20 groups (by id) and their new rows. */
  sample: { groupId: string; rows: number }[];
}

/** What applying (or checking) a plan found besides clean's own counts. */
export interface PlanApplySummary {
  file: string;
  /** The digest in the plan's header: the plan's id in the run log. */
  id: string;
  /** The digest of the plan as read. */
  digest: string;
  /** id ≠ digest, and not as `review` left it: the plan was edited by hand after it was written. */
  edited: boolean;
  /** When `review` set its statuses, if the plan is as the review left it; null otherwise. */
  reviewedAt: string | null;
  createdAt: string;
  groupsInPlan: number;
  /** Groups left untouched because their review status is "needs review" or "rejected". */
  notAccepted: number;
  /** Cleaned by an earlier run of this plan (e.g. one that was killed): not applied again. */
  alreadyDone: number;
  /** Skipped whole: a planned row changed since the plan. */
  staleChanged: number;
  /** Skipped whole: a planned row is gone since the plan. */
  staleGone: number;
  newRows: NewRows;
}
