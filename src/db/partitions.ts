import { sql } from 'kysely';
import type { Db } from './database.js';
import { nullableNumber, rowNumber } from './row-numbers.js';

/** One relation of a partitioned table's tree (the root included). */
export interface PartitionNode {
  oid: number;
  schema: string;
  name: string;
  /** null for the root. */
  parentOid: number | null;
  /** 'p' partitioned (root or sub-partitioned), 'r' a leaf table, 'f' a foreign table. */
  relkind: string;
  /** For a partitioned relation: its partition key columns, null where the key is an expression. */
  keyColumns: (string | null)[];
  /** e.g. `LIST (niche)`; null for a leaf. */
  keyDefinition: string | null;
}

/**
 * The partition tree under a table (pg_partition_tree, PostgreSQL 12+),
 * parents before children; null when the table is not partitioned.
 */
export async function partitionTree(db: Db, tableOid: number): Promise<PartitionNode[] | null> {
  const { rows } = await sql<{
    oid: string | number;
    schema: string;
    name: string;
    parent: string | number | null;
    relkind: string;
    level: number;
    key_columns: (string | null)[] | null;
    key_definition: string | null;
  }>`
    select t.relid::int8 as oid, n.nspname as schema, c.relname as name, t.parentrelid::int8 as parent, c.relkind::text as relkind, t.level,
           case when c.relkind = 'p' then array(
             select a.attname::text
             from unnest(pt.partattrs::int2[]) with ordinality as k(attnum, i)
             left join pg_catalog.pg_attribute a on a.attrelid = c.oid and a.attnum = k.attnum and k.attnum <> 0
             order by k.i) end as key_columns,
           case when c.relkind = 'p' then pg_catalog.pg_get_partkeydef(c.oid) end as key_definition
    from pg_catalog.pg_partition_tree(${tableOid}::int8::oid) as t
    join pg_catalog.pg_class c on c.oid = t.relid
    join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    left join pg_catalog.pg_partitioned_table pt on pt.partrelid = c.oid
    order by t.level, n.nspname, c.relname`.execute(db);
  if (rows[0]?.relkind !== 'p') return null;
  return rows.map((row) => ({
    oid: rowNumber(row.oid, 'oid'),
    schema: row.schema,
    name: row.name,
    parentOid: nullableNumber(row.parent, 'parent'),
    relkind: row.relkind,
    keyColumns: row.key_columns ?? [],
    keyDefinition: row.key_definition,
  }));
}
