import { sql } from 'kysely';
import type { Db } from './database.js';

/**
 * How Citus (distributed PostgreSQL) places a table, read once with the
 * table from the coordinator's metadata (pg_dist_partition):
 * - distributed: sharded across the workers by `column` (hash; range and
 *   append are older methods), or a single-shard table of schema-based
 *   sharding (no distribution column);
 * - reference: a full copy on every node;
 * - citus-local: a coordinator table added to Citus' metadata (so reference
 *   tables can reference it);
 * - local: a plain table on the coordinator, not in Citus' metadata.
 */
export type DistributionKind = 'distributed' | 'reference' | 'citus-local' | 'local';

export interface TableDistribution {
  /** The citus extension's version in this database, e.g. "13.2-1". */
  citusVersion: string;
  kind: DistributionKind;
  /** hash, range or append (distributed only). */
  method: 'hash' | 'range' | 'append' | null;
  /** The distribution column; null for every kind but a hash/range/append distributed table. */
  column: string | null;
  /** Shards of a distributed table (1 for a reference table); null for local tables. */
  shardCount: number | null;
  /** Tables in the same co-location group with a foreign key to this table (schema-qualified): their rows sit on the same node as the rows they reference. */
  colocatedChildren: string[];
  /**
   * Bytes the coordinator's own copy of a distributed or reference table
   * still holds: the rows it had before create_distributed_table (or
   * create_reference_table), which Citus leaves on disk, invisible to
   * queries, until truncate_local_data_after_distributing_table. 0 once
   * removed (and for other kinds). A unique index built on the table is
   * built on that copy too, so its old duplicates fail the build.
   */
  coordinatorLeftoverBytes: number;
}

const METHODS: Record<string, TableDistribution['method']> = { h: 'hash', r: 'range', a: 'append' };

/** null when the citus extension is not installed in this database (a single server, or PGlite). */
export async function tableDistribution(db: Db, tableOid: number): Promise<TableDistribution | null> {
  const { rows: extension } = await sql<{ version: string }>`
    select extversion as version from pg_catalog.pg_extension where extname = 'citus'`.execute(db);
  const citusVersion = extension[0]?.version;
  if (citusVersion === undefined) return null;
  // pg_dist_partition exists only with the extension, so this statement is only planned here.
  const { rows } = await sql<{
    method: string;
    replication: string;
    colocation: number;
    column: string | null;
    shards: string;
    children: string[];
    leftover: string;
  }>`
    select p.partmethod::text as method, p.repmodel::text as replication, p.colocationid as colocation,
           case when p.partkey is null then null else pg_catalog.column_to_column_name(p.logicalrelid, p.partkey) end as column,
           (select count(*) from pg_catalog.pg_dist_shard s where s.logicalrelid = p.logicalrelid) as shards,
           array(select n.nspname || '.' || c.relname
                 from pg_catalog.pg_dist_partition o
                 join pg_catalog.pg_class c on c.oid = o.logicalrelid
                 join pg_catalog.pg_namespace n on n.oid = c.relnamespace
                 where o.colocationid = p.colocationid and p.colocationid <> 0 and o.logicalrelid <> p.logicalrelid
                   and exists (select from pg_catalog.pg_constraint f
                               where f.contype = 'f' and f.conrelid = o.logicalrelid and f.confrelid = p.logicalrelid)
                 order by 1) as children,
           pg_catalog.pg_relation_size(p.logicalrelid) as leftover
    from pg_catalog.pg_dist_partition p
    where p.logicalrelid = ${tableOid}::int8::oid`.execute(db);
  const row = rows[0];
  if (row === undefined) {
    return { citusVersion, kind: 'local', method: null, column: null, shardCount: null, colocatedChildren: [], coordinatorLeftoverBytes: 0 };
  }
  const method = METHODS[row.method] ?? null;
  // partmethod 'n' (none): a reference table (replicated to every node, repmodel 't'), a single-shard table
  // of schema-based sharding (in a co-location group) or a Citus local table on the coordinator.
  const kind: DistributionKind = method !== null ? 'distributed' : row.replication === 't' ? 'reference' : row.colocation !== 0 ? 'distributed' : 'citus-local';
  return {
    citusVersion,
    kind,
    method,
    column: row.column,
    shardCount: kind === 'citus-local' ? null : Number(row.shards),
    colocatedChildren: row.children,
    coordinatorLeftoverBytes: kind === 'citus-local' ? 0 : Number(row.leftover),
  };
}

/** The column every unique index on the table must include (Citus' rule), or null when the table has none. */
export function distributionColumn(distribution: TableDistribution | null): string | null {
  return distribution?.kind === 'distributed' ? distribution.column : null;
}

/** The distribution column of a table named schema.name when it is a Citus distributed table; null otherwise (no citus, another kind, no such table). */
export async function distributionColumnOf(db: Db, schema: string, name: string): Promise<string | null> {
  const { rows } = await sql<{
    oid: string | null;
  }>`select pg_catalog.to_regclass(pg_catalog.quote_ident(${schema}) || '.' || pg_catalog.quote_ident(${name}))::oid::int8 as oid`.execute(db);
  const oid = rows[0]?.oid;
  if (oid === null || oid === undefined) return null;
  return distributionColumn(await tableDistribution(db, Number(oid)));
}
