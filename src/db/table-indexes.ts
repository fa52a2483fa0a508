import { sql } from 'kysely';
import type { Db } from './database.js';

/** Any index on the table (unique or not), as the planner could use it. */
export interface TableIndexInfo {
  name: string;
  unique: boolean;
  /** Backs a primary key or unique constraint: constraint drop removes it, not index drop. */
  constraint: string | null;
  /** Each key column or expression as pg_get_indexdef prints it, in index order. */
  elements: string[];
  /** false for an index left by a failed or interrupted CREATE INDEX CONCURRENTLY. */
  valid: boolean;
  predicate: string | null;
  definition: string;
}

export async function listTableIndexes(db: Db, tableOid: number): Promise<TableIndexInfo[]> {
  const { rows } = await sql<{
    name: string;
    unique: boolean;
    constraint_name: string | null;
    elements: string[];
    valid: boolean;
    predicate: string | null;
    definition: string;
  }>`
    select c.relname as name, i.indisunique as unique, con.conname as constraint_name,
           array(select pg_catalog.pg_get_indexdef(i.indexrelid, k, true) from generate_series(1, i.indnkeyatts) as k order by k) as elements,
           i.indisvalid as valid,
           pg_catalog.pg_get_expr(i.indpred, i.indrelid, true) as predicate,
           pg_catalog.pg_get_indexdef(i.indexrelid) as definition
    from pg_catalog.pg_index i
    join pg_catalog.pg_class c on c.oid = i.indexrelid
    left join pg_catalog.pg_constraint con on con.conindid = i.indexrelid and con.conrelid = i.indrelid and con.contype in ('p', 'u', 'x')
    where i.indrelid = ${tableOid}::int8::oid
    order by c.relname`.execute(db);
  return rows.map((row) => ({
    name: row.name,
    unique: row.unique,
    constraint: row.constraint_name,
    elements: row.elements,
    valid: row.valid,
    predicate: row.predicate,
    definition: row.definition,
  }));
}
