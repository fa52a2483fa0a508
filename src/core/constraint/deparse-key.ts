import { sql } from 'kysely';
import type { Db } from '../../db/database.js';
import type { LeadTable, ResolvedKey } from '../../keys/key-definition.js';
import { tableRef } from '../../keys/key-sql.js';
import { indexElements } from '../../sql/constraint-plan.js';

const PROBE_TABLE = 'lead_dedupe_probe';

/**
 * Each key's index elements as PostgreSQL itself prints them
 * (pg_get_indexdef), so they compare as text with the elements of existing
 * indexes: the server adds casts and parentheses of its own
 * (`'[^0-9]'::text`), which no hand-written normaliser would reproduce.
 * The index is built on an empty temporary copy of the table's columns,
 * dropped at commit: nothing is left behind and the real table is not locked.
 */
export async function deparseKeyElements(db: Db, table: LeadTable, keys: ResolvedKey[]): Promise<string[][]> {
  if (keys.length === 0) return [];
  return db.transaction().execute(async (trx) => {
    await sql`create temporary table ${sql.id(PROBE_TABLE)} (like ${tableRef(table)}) on commit drop`.execute(trx);
    const names = keys.map((_, index) => `${PROBE_TABLE}_${index + 1}`);
    for (const [index, key] of keys.entries()) {
      await sql`create index ${sql.id(names[index]!)} on pg_temp.${sql.id(PROBE_TABLE)} (${sql.join(indexElements(key))})`.execute(trx);
    }
    const { rows } = await sql<{ name: string; elements: string[] }>`
      select c.relname as name,
             array(select pg_catalog.pg_get_indexdef(i.indexrelid, k, true) from generate_series(1, i.indnkeyatts) as k order by k) as elements
      from pg_catalog.pg_index i
      join pg_catalog.pg_class c on c.oid = i.indexrelid
      where i.indrelid = ${sql.lit(`pg_temp.${PROBE_TABLE}`)}::regclass`.execute(trx);
    return names.map((name) => rows.find((row) => row.name === name)!.elements);
  });
}
