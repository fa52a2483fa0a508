import { sql, type RawBuilder } from 'kysely';

/** The watermarks of `scan --since last`, in the tool's own schema beside the archive (--archive-schema). */
export const WATERMARK_TABLE = 'lead_dedupe_watermarks';

/** JSON beside each watermark: the marks of zoneless window columns and the ids of reported surplus rows (watermark-key.ts). */
export const DETAILS_COLUMN = 'details';

function watermarkRef(schema: string): RawBuilder<unknown> {
  return sql.id(schema, WATERMARK_TABLE);
}

/** Whether the schema and the table exist, and whether this role may read and move the watermarks. */
export interface WatermarkTableState {
  schema_exists: boolean;
  table_exists: boolean;
  writable: boolean | null;
  /** Whether the table has the details column (a table made by an older version has not). */
  has_details: boolean;
  /** Whether this role may add it (owns the table). */
  owned: boolean | null;
}

export function watermarkTableStateQuery(schema: string): RawBuilder<WatermarkTableState> {
  return sql<WatermarkTableState>`select
  exists (select 1 from pg_catalog.pg_namespace where nspname = ${schema}) as schema_exists,
  c.oid is not null as table_exists,
  exists (select 1 from pg_catalog.pg_attribute a where a.attrelid = c.oid and a.attname = ${DETAILS_COLUMN} and not a.attisdropped) as has_details,
  pg_catalog.pg_has_role(c.relowner, 'USAGE') as owned,
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
  details text,
  primary key (table_name, key_definition)
)`,
  ];
}

/** A table made by an older version gains the details column (its owner may add it). */
export function addDetailsColumnStatement(schema: string): RawBuilder<unknown> {
  return sql`alter table ${watermarkRef(schema)} add column if not exists ${sql.id(DETAILS_COLUMN)} text`;
}

/** The table's watermarks, in whole milliseconds since the epoch, with their details when the table has the column. */
export function readWatermarksQuery(
  schema: string,
  table: string,
  withDetails: boolean,
): RawBuilder<{ key_definition: string; watermark_ms: string | number; details: string | null }> {
  const details = withDetails ? sql.id(DETAILS_COLUMN) : sql`null::text`;
  return sql<{
    key_definition: string;
    watermark_ms: string | number;
    details: string | null;
  }>`select key_definition, floor(extract(epoch from watermark) * 1000)::int8 as watermark_ms, ${details} as details
from ${watermarkRef(schema)}
where table_name = ${table}`;
}

/** Sets each key's watermark (inserting the first one), and its details when the table has the column (`details` not null). */
export function writeWatermarksStatement(
  schema: string,
  rows: { table: string; definition: string; keyName: string; watermark: Date; details: string | null }[],
): RawBuilder<unknown> {
  const withDetails = rows.some((row) => row.details !== null);
  const values = rows.map(
    (row) => sql`(${row.table}, ${row.definition}, ${row.keyName}, ${row.watermark.toISOString()}::timestamptz${withDetails ? sql`, ${row.details}` : sql``})`,
  );
  return sql`insert into ${watermarkRef(schema)} (table_name, key_definition, key_name, watermark${withDetails ? sql`, ${sql.id(DETAILS_COLUMN)}` : sql``})
values ${sql.join(values)}
on conflict (table_name, key_definition) do update
set key_name = excluded.key_name, watermark = excluded.watermark, updated_at = clock_timestamp()${withDetails ? sql`, ${sql.id(DETAILS_COLUMN)} = excluded.${sql.id(DETAILS_COLUMN)}` : sql``}`;
}
