import { sql } from 'kysely';
import type { Db } from './database.js';

/** A foreign key pointing at a table, as the catalog describes it (src/clean/foreign-keys.ts decides what clean can do with it). */
export interface ForeignKeyRow {
  constraint: string;
  schema: string;
  table: string;
  child_oid: string | number;
  child_columns: string[];
  parent_columns: string[];
  on_delete: string;
  primary_key: string[] | null;
  self: boolean;
  not_null: boolean;
  indexed: boolean;
}

/** Every foreign key that references the table (pg_constraint), with what clean needs to know of its child table. */
export async function foreignKeysTo(db: Db, tableOid: number): Promise<ForeignKeyRow[]> {
  const { rows } = await sql<ForeignKeyRow>`
    select c.conname as constraint, n.nspname as schema, r.relname as table, r.oid::int8 as child_oid,
           array(select a.attname::text from unnest(c.conkey) with ordinality as k(attnum, ord)
                 join pg_catalog.pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.attnum order by k.ord) as child_columns,
           array(select a.attname::text from unnest(c.confkey) with ordinality as k(attnum, ord)
                 join pg_catalog.pg_attribute a on a.attrelid = c.confrelid and a.attnum = k.attnum order by k.ord) as parent_columns,
           c.confdeltype::text as on_delete,
           (select array(select a.attname::text from unnest(i.indkey::int2[]) with ordinality as k(attnum, ord)
                         join pg_catalog.pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum order by k.ord)
            from pg_catalog.pg_index i where i.indrelid = c.conrelid and i.indisprimary) as primary_key,
           c.conrelid = c.confrelid as self,
           (select a.attnotnull from pg_catalog.pg_attribute a where a.attrelid = c.conrelid and a.attnum = c.conkey[1]) as not_null,
           exists (select 1 from pg_catalog.pg_index i where i.indrelid = c.conrelid and i.indkey[0] = c.conkey[1]) as indexed
    from pg_catalog.pg_constraint c
    join pg_catalog.pg_class r on r.oid = c.conrelid
    join pg_catalog.pg_namespace n on n.oid = r.relnamespace
    where c.contype = 'f' and c.confrelid = ${tableOid}::int8::oid
    order by n.nspname, r.relname, c.conname`.execute(db);
  return rows;
}

/** The unique indexes on plain columns of a table (expression indexes left out), with NULLS NOT DISTINCT where the server has it. */
export async function plainUniqueIndexesOn(
  db: Db,
  tableOid: number,
  serverVersionNum: number,
): Promise<{ name: string; columns: string[]; nullsNotDistinct: boolean }[]> {
  const nullsNotDistinct = serverVersionNum >= 150000 ? sql`i.indnullsnotdistinct` : sql`false`;
  const { rows } = await sql<{ name: string; columns: string[]; nulls_not_distinct: boolean }>`
    select ci.relname as name,
           array(select a.attname::text from unnest(i.indkey::int2[]) with ordinality as k(attnum, ord)
                 join pg_catalog.pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum order by k.ord) as columns,
           ${nullsNotDistinct} as nulls_not_distinct
    from pg_catalog.pg_index i
    join pg_catalog.pg_class ci on ci.oid = i.indexrelid
    where i.indrelid = ${tableOid}::int8::oid and i.indisunique and not (0 = any(i.indkey::int2[]))
    order by ci.relname`.execute(db);
  return rows.map((row) => ({ name: row.name, columns: row.columns, nullsNotDistinct: row.nulls_not_distinct }));
}
