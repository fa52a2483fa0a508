import { resolveTable } from '../db/catalog.js';
import type { Db } from '../db/database.js';
import type { LeadTable } from '../keys/key-definition.js';
import { resolveLeadTable } from '../keys/resolve-key.js';

export interface LeadTableSettings {
  table: string;
  idColumn: string;
  createdColumn: string;
}

/** The leads table with its id and created columns, checked against the catalog. */
export async function loadLeadTable(db: Db, settings: LeadTableSettings): Promise<LeadTable> {
  return resolveLeadTable(await resolveTable(db, settings.table), settings.idColumn, settings.createdColumn);
}
