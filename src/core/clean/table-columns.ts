import { sql } from 'kysely';
import type { Db } from '../../db/database.js';
import { isTextColumn } from '../../db/catalog.js';
import type { ResolvedKey } from '../../keys/key-definition.js';

/** A column with what clean and restore need beyond catalog.ts's ColumnInfo. */
export interface ColumnTraits {
  name: string;
  type: string;
  isText: boolean;
  /** 'a' (GENERATED ALWAYS AS IDENTITY), 'd' (BY DEFAULT) or '' */
  identity: string;
  /** A generated (computed) column: never written. */
  generated: boolean;
}

export async function loadColumnTraits(db: Db, tableOid: number): Promise<ColumnTraits[]> {
  const { rows } = await sql<{ name: string; type: string; identity: string; generated: string }>`
    select a.attname as name, pg_catalog.format_type(a.atttypid, a.atttypmod) as type,
           a.attidentity::text as identity, a.attgenerated::text as generated
    from pg_catalog.pg_attribute a
    where a.attrelid = ${tableOid}::int8::oid and a.attnum > 0 and not a.attisdropped
    order by a.attnum`.execute(db);
  return rows.map((row) => ({
    name: row.name,
    type: row.type,
    isText: isTextColumn({ name: row.name, type: row.type, notNull: false }),
    identity: row.identity,
    generated: row.generated !== '',
  }));
}

/**
 * Columns a merge may fill: never the id, the created time, a key column or
 * a computed column. Array columns are left alone too: array_agg over them
 * would build a two-dimensional array, not a list of donor values.
 */
export function mergeableColumns(key: ResolvedKey, columns: ColumnTraits[]): ColumnTraits[] {
  const fixed = new Set([key.table.idColumn, key.table.createdColumn, ...key.columns.map((c) => c.column)]);
  return columns.filter((c) => !fixed.has(c.name) && !c.generated && c.identity === '' && !c.type.endsWith('[]'));
}

/** Columns a restore writes back: everything but computed columns. */
export function insertableColumns(columns: ColumnTraits[]): ColumnTraits[] {
  return columns.filter((c) => !c.generated);
}
