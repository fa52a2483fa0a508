import type { TableInfo } from '../db/catalog.js';

export const NORMALIZE_RULES = ['trim', 'lower', 'digits', 'e164'] as const;
export type NormalizeRule = (typeof NORMALIZE_RULES)[number];

/** A key as the user names it, before it is checked against the catalog. */
export interface KeyDefinition {
  name: string;
  /** Logical column names; the table's column mapping turns them into real ones. */
  columns: string[];
  /** Per logical column; overrides the global --normalize for this key only. */
  normalize?: Record<string, NormalizeRule>;
  nullsEqual?: boolean;
}

/** The table a key lives on, with the two columns every command needs. */
export interface LeadTable {
  info: TableInfo;
  idColumn: string;
  /** null when the table has no created column: order falls back to the id. */
  createdColumn: string | null;
  /** Why the default created_at is not used (e.g. "no created_at column"); absent when a created column is used or none was looked for. */
  createdFallback?: string;
}

export interface ResolvedKeyColumn {
  /** The name the user used (e.g. `phone`). */
  logical: string;
  /** The column in the table (e.g. `phone_number`), validated against the catalog. */
  column: string;
  normalize: NormalizeRule | null;
}

/**
 * The one key model: scan, details, clean, the constraint and the upsert SQL
 * all derive their SQL from this, so they cannot disagree about what a
 * duplicate is.
 */
export interface ResolvedKey {
  name: string;
  table: LeadTable;
  columns: ResolvedKeyColumn[];
  /** true: NULLs compare equal (UNIQUE NULLS NOT DISTINCT); false: a NULL puts the row in no group. */
  nullsEqual: boolean;
  /** Digits of the calling code for e164, e.g. "60"; null when no column uses e164. */
  callingCode: string | null;
  defaultCountry: string | null;
}
