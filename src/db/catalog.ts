import { sql } from 'kysely';
import { CatalogError } from '../errors.js';
import type { Db } from './database.js';

export interface ColumnInfo {
  name: string;
  /** format_type() of the column, e.g. "character varying(32)" */
  type: string;
  notNull: boolean;
  /** 'a' (GENERATED ALWAYS AS IDENTITY), 'd' (BY DEFAULT) or '' */
  identity: string;
  /** A generated (computed) column: never written. */
  generated: boolean;
}

export interface TableInfo {
  schema: string;
  name: string;
  oid: number;
  columns: ColumnInfo[];
}

/** Column types that text normalisation (trim, lower, digits, e164) applies to. */
const TEXT_TYPES = /^(text|character varying|character|citext|varchar|bpchar|name)\b/;

export function isTextColumn(column: Pick<ColumnInfo, 'type'>): boolean {
  return TEXT_TYPES.test(column.type);
}

/** Columns the server fills itself (identity or GENERATED … STORED): an INSERT leaves them out. */
export function isServerFilled(column: ColumnInfo): boolean {
  return column.identity !== '' || column.generated;
}

export function qualifiedName(table: Pick<TableInfo, 'schema' | 'name'>): string {
  return `${table.schema}.${table.name}`;
}

/**
 * Looks a table up in the catalog by name: `leads` (first match on the
 * search_path) or `schema.leads`. Names are compared as data, never parsed
 * as SQL, so `x"; drop table y` is simply a table that does not exist.
 */
export async function resolveTable(db: Db, requested: string): Promise<TableInfo> {
  const candidates = splitQualified(requested);
  for (const { schema, name } of candidates) {
    const found = await findTable(db, schema, name);
    if (found) return { ...found, columns: await listColumns(db, found.oid) };
  }
  const existing = await listTables(db);
  throw new CatalogError(
    `table "${requested}" not found; tables here: ${existing.length ? existing.join(', ') : '(none)'}`,
  );
}

export function findColumn(table: TableInfo, name: string): ColumnInfo | undefined {
  return table.columns.find((column) => column.name === name);
}

export function requireColumn(table: TableInfo, name: string, role = 'column'): ColumnInfo {
  const column = findColumn(table, name);
  if (!column) {
    throw new CatalogError(
      `${role} "${name}" not found in ${qualifiedName(table)}; columns: ${table.columns.map((c) => c.name).join(', ')}`,
    );
  }
  return column;
}

export async function tableExists(db: Db, schema: string, name: string): Promise<boolean> {
  return (await findTable(db, schema, name)) !== undefined;
}

function splitQualified(requested: string): { schema: string | null; name: string }[] {
  const dot = requested.indexOf('.');
  const whole = { schema: null, name: requested };
  if (dot <= 0 || dot === requested.length - 1) return [whole];
  return [{ schema: requested.slice(0, dot), name: requested.slice(dot + 1) }, whole];
}

async function findTable(db: Db, schema: string | null, name: string) {
  const { rows } = await sql<{ schema: string; name: string; oid: number }>`
    select n.nspname as schema, c.relname as name, c.oid::int8 as oid
    from pg_catalog.pg_class c
    join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    where c.relname = ${name}
      and c.relkind in ('r', 'p')
      and (case when ${schema}::text is null then pg_catalog.pg_table_is_visible(c.oid)
                else n.nspname = ${schema}::text end)
    limit 1`.execute(db);
  const row = rows[0];
  return row ? { schema: row.schema, name: row.name, oid: Number(row.oid) } : undefined;
}

async function listColumns(db: Db, oid: number): Promise<ColumnInfo[]> {
  const { rows } = await sql<{ name: string; type: string; not_null: boolean; identity: string; generated: string }>`
    select a.attname as name, pg_catalog.format_type(a.atttypid, a.atttypmod) as type, a.attnotnull as not_null,
           a.attidentity::text as identity, a.attgenerated::text as generated
    from pg_catalog.pg_attribute a
    where a.attrelid = ${oid}::int8::oid and a.attnum > 0 and not a.attisdropped
    order by a.attnum`.execute(db);
  return rows.map((row) => ({
    name: row.name,
    type: row.type,
    notNull: row.not_null,
    identity: row.identity,
    generated: row.generated !== '',
  }));
}

async function listTables(db: Db): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`
    select n.nspname || '.' || c.relname as name
    from pg_catalog.pg_class c
    join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    where c.relkind in ('r', 'p')
      and n.nspname not in ('pg_catalog', 'information_schema')
      and n.nspname not like 'pg_toast%'
    order by 1
    limit 50`.execute(db);
  return rows.map((row) => row.name);
}
