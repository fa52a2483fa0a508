import type { RawBuilder } from 'kysely';

/**
 * The words of a clean-up that the planners build SQL from: keep policies,
 * modes, merge rules, the child foreign keys to re-point, and the run states
 * the archive records. Defined here, below the planners, so that src/sql
 * never imports the core.
 */

export const KEEP_POLICIES = ['oldest', 'newest', 'most-complete'] as const;
export type KeepPolicy = (typeof KEEP_POLICIES)[number];

export const CLEAN_MODES = ['merge', 'delete'] as const;
export type CleanMode = (typeof CLEAN_MODES)[number];

export const MERGE_RULES = ['newest', 'oldest', 'keeper', 'longest'] as const;
export type MergeRule = (typeof MERGE_RULES)[number];

/** A foreign key that points at the leads table's id. */
export interface ChildReference {
  constraint: string;
  schema: string;
  table: string;
  /** The child column that references the leads' id column. */
  column: string;
  /** The leads table the key references (the dry run reads the keeper's other referenced values from it). */
  parent: { schema: string; table: string };
  /**
   * The other pairs of a composite key, child column → referenced leads
   * column, e.g. (device_id → device_id) for (device_id, lead_id) →
   * leads (device_id, id). Empty for a single-column key. A child row is
   * moved only when all of them are set (MATCH SIMPLE: a key with a NULL
   * part references nothing).
   */
  shared: { child: string; parent: string }[];
  /**
   * The shared pairs whose value the keeper may not share with the removed
   * copy (the duplicate key does not contain the referenced column as it
   * is): a moved row takes the keeper's value there too. Those the key
   * contains keep their value, so only `column` changes.
   */
  copied: { child: string; parent: string }[];
  /**
   * The child's distribution column when it is a Citus distributed table.
   * Citus cannot change it in place, so a move that changes it (leads
   * distributed by id: the child by lead_id; or a key without device_id)
   * inserts the moved row and deletes the original instead of updating it.
   */
  distributionColumn: string | null;
  /** The child's primary key columns: how the archive finds a moved row again. */
  primaryKey: string[];
  onDelete: string;
  /** A foreign key from the leads table to itself (e.g. parent_id): merge never fills it, and a keeper never becomes its own parent. */
  self: boolean;
  /** The referencing column is NOT NULL. */
  notNull: boolean;
  /** Some index on the child table starts with the referencing column; without one, every re-point and delete scans the child. */
  indexed: boolean;
  /** Unique indexes on the child that include `column`: re-pointing could break them. */
  uniqueIndexes: { name: string; columns: string[]; nullsNotDistinct: boolean }[];
}

/**
 * 'restored with conflicts': restored, except merged keeper columns the
 * application changed since the clean, left as they are; `restore --force`
 * puts those back and marks the run restored.
 */
export type RunStatus = 'running' | 'done' | 'failed' | 'restored' | 'interrupted' | 'restored with conflicts';

/**
 * The rows a batch's statements may touch, as a filter each statement adds
 * to its WHERE: on a Citus table whose batches are cut by shard
 * (placement.ts, `citus-pinned`), the batch's distribution values, so that
 * Citus routes each statement to the one shard; for every other batch,
 * nothing (the batch's session tables already say which rows).
 */
export interface BatchScope {
  /** ` and <alias>.<distribution column> = any($values)` on the leads table, or nothing. */
  leads(alias: string): RawBuilder<unknown>;
  /** The same on a co-located child's column that holds the leads' distribution value, or nothing (no such column). */
  child(reference: ChildReference, alias: string): RawBuilder<unknown>;
  /** Whether the batch may hold a chunk of a group too large for one batch (a pinned batch knows from its stage rows). */
  mayHoldChunks: boolean;
}

/** Where a batch's archive rows go: the archive schema, the run and the batch (0-based). */
export interface BatchArchive {
  schema: string;
  runId: number;
  batch: number;
}
