import { qualifiedName, resolveTable } from '../db/catalog.js';
import type { Db } from '../db/database.js';
import { distributionColumn } from '../db/distribution.js';
import { distributedColumnValuesAreUnique, hasUniqueIndexOn, hasUniqueIndexOnColumns } from '../db/unique-indexes.js';
import { UsageError } from '../errors.js';
import type { LeadTable, ResolvedKey } from '../keys/key-definition.js';
import { resolveKeys, resolveLeadTable, type KeySettings } from '../keys/resolve-key.js';
import { CLEAN_DEFAULTS } from '../clean/defaults.js';

export interface LeadTableSettings {
  table: string;
  idColumn: string;
  /** As the user named it (flag or config); null: the default created_at, when the table has it. */
  createdColumn: string | null;
  /** lead-dedupe's own archive schema, never a target (default lead_dedupe). */
  archiveSchema?: string;
}

/** The leads table with its id and created columns, checked against the catalog. `command` names the caller in refusals. */
export async function loadLeadTable(db: Db, settings: LeadTableSettings, command = 'lead-dedupe'): Promise<LeadTable> {
  const use = { command, archiveSchema: settings.archiveSchema ?? CLEAN_DEFAULTS.archiveSchema };
  return resolveLeadTable(await resolveTable(db, settings.table, use), settings.idColumn, settings.createdColumn);
}

/** The one key that clean, constraint add and sql upsert act on, checked against the catalog with its table. */
export async function loadOneKey(db: Db, settings: LeadTableSettings, keySettings: KeySettings, keyText: string, command: string): Promise<ResolvedKey> {
  const table = await loadLeadTable(db, settings, command);
  return resolveKeys(table, [keyText], keySettings).keys[0]!;
}

/**
 * clean and restore find, archive and put back rows by their id: if ids can
 * repeat, one id names several rows (and the archive's primary key rejects
 * the second). A primary key or unique index on exactly that column is the
 * catalog's promise that they cannot.
 */
export async function requireUniqueIdColumn(db: Db, table: LeadTable, command: string): Promise<void> {
  if (await hasUniqueIndexOn(db, table.info.oid, table.idColumn)) return;
  // Citus allows no unique index without the distribution column: (device_id, id) is the most a distributed table can declare.
  // clean finds rows by the id alone, so the ids are checked to be unique across the table once, before any change.
  const distribution = distributionColumn(table.info.distribution);
  if (distribution !== null && (await hasUniqueIndexOnColumns(db, table.info.oid, [distribution, table.idColumn]))) {
    if (await distributedColumnValuesAreUnique(db, table.info, table.idColumn)) return;
    throw new UsageError(
      `${command} needs a unique id column: ${qualifiedName(table.info)} (distributed by ${distribution}) has rows sharing a "${table.idColumn}" value on different ${distribution} values; name a column unique across the table with --id-column`,
    );
  }
  throw new UsageError(
    `${command} needs a unique id column: ${qualifiedName(table.info)} has no primary key or unique index on exactly "${table.idColumn}" ` +
      '(valid, without WHERE or expressions); add one, or name a unique column with --id-column',
  );
}
