import { sql } from 'kysely';
import type { Db } from './database.js';

/** Columns the server fills itself (identity or GENERATED … STORED): an INSERT leaves them out. */
export async function listGeneratedColumns(db: Db, tableOid: number): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`
    select a.attname as name
    from pg_catalog.pg_attribute a
    where a.attrelid = ${tableOid}::int8::oid and a.attnum > 0 and not a.attisdropped
      and (a.attidentity <> '' or a.attgenerated <> '')
    order by a.attnum`.execute(db);
  return rows.map((row) => row.name);
}
