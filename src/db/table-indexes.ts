import { sql } from 'kysely';
import type { Database } from './database.js';

/** Any index on the table (unique or not), as the planner could use it; the unique ones are what unique-indexes.ts lists. */
export interface TableIndexInfo {
  name: string;
  unique: boolean;
  /** Backs the primary key. */
  primary: boolean;
  /** Backs a primary key, unique or exclusion constraint: constraint drop removes it, not index drop. */
  constraint: string | null;
  /** Each key column or expression as pg_get_indexdef prints it, in index order. */
  elements: string[];
  /** false for an index left by a failed or interrupted CREATE INDEX CONCURRENTLY. */
  valid: boolean;
  nullsNotDistinct: boolean;
  /** A partial index (WHERE …) only covers some rows. */
  predicate: string | null;
  /** false for a DEFERRABLE constraint, which ON CONFLICT cannot use as an arbiter. */
  immediate: boolean;
  definition: string;
}

interface TableIndexRow {
  name: string;
  unique: boolean;
  is_primary: boolean;
  constraint_name: string | null;
  elements: string[];
  valid: boolean;
  nulls_not_distinct: boolean;
  predicate: string | null;
  immediate: boolean;
  definition: string;
}

/** Every index on the table (valid or not), with the constraint it backs, if any (read from pg_index / pg_constraint), by name. */
export async function listTableIndexes(database: Database, tableOid: number): Promise<TableIndexInfo[]> {
  // indnullsnotdistinct exists from PostgreSQL 15; before that every index treats NULLs as distinct.
  const nullsNotDistinct = database.features.serverVersionNum >= 150000 ? sql`i.indnullsnotdistinct` : sql`false`;
  // contype limits the join to the constraint the index backs: a foreign key names the index it references in conindid too.
  const { rows } = await sql<TableIndexRow>`
    select c.relname as name, i.indisunique as unique, i.indisprimary as is_primary, con.conname as constraint_name,
           array(select pg_catalog.pg_get_indexdef(i.indexrelid, k, true) from generate_series(1, i.indnkeyatts) as k order by k) as elements,
           i.indisvalid as valid, ${nullsNotDistinct} as nulls_not_distinct,
           pg_catalog.pg_get_expr(i.indpred, i.indrelid, true) as predicate,
           i.indimmediate as immediate,
           pg_catalog.pg_get_indexdef(i.indexrelid) as definition
    from pg_catalog.pg_index i
    join pg_catalog.pg_class c on c.oid = i.indexrelid
    left join pg_catalog.pg_constraint con on con.conindid = i.indexrelid and con.conrelid = i.indrelid and con.contype in ('p', 'u', 'x')
    where i.indrelid = ${tableOid}::int8::oid
    order by c.relname`.execute(database.db);
  return rows.map((row) => ({
    name: row.name,
    unique: row.unique,
    primary: row.is_primary,
    constraint: row.constraint_name,
    elements: row.elements,
    valid: row.valid,
    nullsNotDistinct: row.nulls_not_distinct,
    predicate: row.predicate,
    immediate: row.immediate,
    definition: row.definition,
  }));
}
