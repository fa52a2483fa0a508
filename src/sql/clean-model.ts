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
  column: string;
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

export type RunStatus = 'running' | 'done' | 'failed' | 'restored' | 'interrupted';
