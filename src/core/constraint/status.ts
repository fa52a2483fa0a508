import { qualifiedName } from '../../db/catalog.js';
import type { Database } from '../../db/database.js';
import { listUniqueIndexes, type UniqueIndexInfo } from '../../db/unique-indexes.js';
import type { LeadTable, ResolvedKey } from '../../keys/key-definition.js';
import { matchKeys } from './key-protection.js';
import { summarizeKey, type KeySummary } from '../../keys/key-summary.js';
import type { TableDistribution } from '../../db/distribution.js';
import { missingDistributionColumn } from '../../keys/distribution-rule.js';
import type { SkippedKey } from '../../keys/skipped-keys.js';

export interface ConstraintStatusOptions {
  table: LeadTable;
  /** The keys to check (the presets, with the user's --normalize / --nulls-equal). */
  keys: ResolvedKey[];
  skippedKeys?: SkippedKey[];
}

export interface KeyProtection {
  key: KeySummary;
  /** The index elements the key needs, as PostgreSQL prints them. */
  elements: string[];
  /** Names of the valid unique constraints/indexes that enforce exactly this key; empty: unprotected. */
  protectedBy: string[];
  /** Names of valid unique indexes on fewer of the key's columns: they reject its duplicates too (protection.ts). */
  impliedBy: string[];
  /** On a Citus distributed table, the distribution column this key lacks: then no unique index can enforce it (Citus' rule); else null. */
  missingDistributionColumn: string | null;
}

export interface ConstraintStatus {
  table: string;
  /** How Citus places the table; null without Citus (a single server). */
  distribution: TableDistribution | null;
  serverVersionNum: number;
  /** UNIQUE NULLS NOT DISTINCT needs PostgreSQL 15+. */
  nullsNotDistinctSupported: boolean;
  indexes: UniqueIndexInfo[];
  keys: KeyProtection[];
  /** A short name for each index element a checked key uses, e.g. the e164 CASE expression → `e164(phone)`. */
  elementLabels: Record<string, string>;
  skippedKeys: SkippedKey[];
}

/** Every unique constraint and index on the table, and which keys they protect. Read-only. */
export async function constraintStatus(database: Database, options: ConstraintStatusOptions): Promise<ConstraintStatus> {
  const indexes = await listUniqueIndexes(database, options.table.info.oid);
  const matches = await matchKeys(database, options.table, options.keys, indexes);
  const elements = matches.map((match) => match.elements);
  return {
    table: qualifiedName(options.table.info),
    distribution: options.table.info.distribution,
    serverVersionNum: database.features.serverVersionNum,
    nullsNotDistinctSupported: database.features.serverVersionNum >= 150000,
    indexes,
    keys: options.keys.map((key, index) => ({
      key: summarizeKey(key),
      elements: elements[index]!,
      protectedBy: matches[index]!.protecting.map((i) => i.name),
      impliedBy: matches[index]!.impliedBy.map((i) => i.name),
      missingDistributionColumn: missingDistributionColumn(key),
    })),
    // Every form an index on the key may have (the short function, an earlier version's inline expression) gets the same label.
    elementLabels: Object.fromEntries(
      options.keys.flatMap((key, index) =>
        [elements[index]!, ...matches[index]!.forms].flatMap((form) =>
          key.columns.map((column, position) => [form[position]!, column.normalize === null ? column.column : `${column.normalize}(${column.column})`]),
        ),
      ),
    ),
    skippedKeys: options.skippedKeys ?? [],
  };
}
