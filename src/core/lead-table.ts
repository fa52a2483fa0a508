import { resolveTable } from '../db/catalog.js';
import type { Db } from '../db/database.js';
import type { LeadTable, ResolvedKey } from '../keys/key-definition.js';
import { resolveKeys, resolveLeadTable, type KeySettings } from '../keys/resolve-key.js';

export interface LeadTableSettings {
  table: string;
  idColumn: string;
  createdColumn: string;
}

/** The leads table with its id and created columns, checked against the catalog. */
export async function loadLeadTable(db: Db, settings: LeadTableSettings): Promise<LeadTable> {
  return resolveLeadTable(await resolveTable(db, settings.table), settings.idColumn, settings.createdColumn);
}

/** The one key that clean, constraint add and sql upsert act on, checked against the catalog with its table. */
export async function loadOneKey(db: Db, settings: LeadTableSettings, keySettings: KeySettings, keyText: string): Promise<ResolvedKey> {
  const table = await loadLeadTable(db, settings);
  return resolveKeys(table, [keyText], keySettings).keys[0]!;
}
