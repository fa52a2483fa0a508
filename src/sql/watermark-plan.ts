import { sql, type RawBuilder } from 'kysely';

/** The watermarks of `scan --since last`, in the tool's own schema beside the archive (--archive-schema). */
export const WATERMARK_TABLE = 'lead_dedupe_watermarks';

function watermarkRef(schema: string): RawBuilder<unknown> {
  return sql.id(schema, WATERMARK_TABLE);
}

/** Whether the schema and the table exist, and whether this role may read and move the watermarks. */
export function watermarkTableStateQuery(schema: string): RawBuilder<{ schema_exists: boolean; table_exists: boolean; writable: boolean | null }> {
  return sql<{ schema_exists: boolean; table_exists: boolean; writable: boolean | null }>`select
  exists (select 1 from pg_catalog.pg_namespace where nspname = ${schema}) as schema_exists,
  c.oid is not null as table_exists,
  pg_catalog.has_table_privilege(c.oid, 'SELECT') and pg_catalog.has_table_privilege(c.oid, 'INSERT')
    and pg_catalog.has_table_privilege(c.oid, 'UPDATE') as writable
from (select 1) as one
left join (pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace)
  on n.nspname = ${schema} and c.relname = ${WATERMARK_TABLE}`;
}

/**
 * Created on first use, never dropped. One row per table and key
 * definition (canonical JSON: columns, normalisation, NULL handling,
 * window column).
 */
export function watermarkDdl(schema: string, createSchema: boolean): RawBuilder<unknown>[] {
  return [
    ...(createSchema ? [sql`create schema if not exists ${sql.id(schema)}`] : []),
    sql`create table if not exists ${watermarkRef(schema)} (
  table_name text not null,
  key_definition text not null,
  key_name text not null,
  watermark timestamptz not null,
  updated_at timestamptz not null default clock_timestamp(),
  primary key (table_name, key_definition)
)`,
  ];
}

/** The table's watermarks, in whole milliseconds since the epoch. */
export function readWatermarksQuery(schema: string, table: string): RawBuilder<{ key_definition: string; watermark_ms: string | number }> {
  return sql<{ key_definition: string; watermark_ms: string | number }>`select key_definition, floor(extract(epoch from watermark) * 1000)::int8 as watermark_ms
from ${watermarkRef(schema)}
where table_name = ${table}`;
}

/** Sets each key's watermark (inserting the first one). */
export function writeWatermarksStatement(schema: string, rows: { table: string; definition: string; keyName: string; watermark: Date }[]): RawBuilder<unknown> {
  const values = rows.map((row) => sql`(${row.table}, ${row.definition}, ${row.keyName}, ${row.watermark.toISOString()}::timestamptz)`);
  return sql`insert into ${watermarkRef(schema)} (table_name, key_definition, key_name, watermark)
values ${sql.join(values)}
on conflict (table_name, key_definition) do update
set key_name = excluded.key_name, watermark = excluded.watermark, updated_at = clock_timestamp()`;
}
