import { sql } from 'kysely';
import { CatalogError, UsageError } from '../errors.js';
import type { Db } from './database.js';
import { parseTableName, quotedTableName, type TableName } from './table-name.js';
import { didYouMean } from '../util/did-you-mean.js';
import { tableDistribution, type TableDistribution } from './distribution.js';
import { USER_SEARCH_PATH_SETTING } from './session-pin.js';

export interface ColumnInfo {
  name: string;
  /** format_type() of the column, e.g. "character varying(32)" */
  type: string;
  notNull: boolean;
  /** 'a' (GENERATED ALWAYS AS IDENTITY), 'd' (BY DEFAULT) or '' */
  identity: string;
  /** A generated (computed) column: never written. */
  generated: boolean;
  /**
   * The schema of the equality operator of the type's default btree operator class when it is not
   * pg_catalog's (citext's `=` lives in the extension's schema, usually public); null otherwise.
   * Under the pinned search_path a bare `=` would find pg_catalog's text `=` for a citext column
   * (case-sensitive) while GROUP BY uses citext's: comparisons name this schema's operator.
   */
  equalitySchema?: string | null;
}

export interface TableInfo {
  schema: string;
  name: string;
  oid: number;
  columns: ColumnInfo[];
  /** Where Citus places the table; null when the citus extension is not installed (a single server). */
  distribution: TableDistribution | null;
}

/** Column types that text normalisation (trim, lower, digits, e164) applies to. */
// citext prints schema-qualified (public.citext) under the tool's pinned search_path.
const TEXT_TYPES = /^(text|character varying|character|(?:.+\.)?citext|varchar|bpchar|name)\b/;

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

/** Who asks for a table: named in refusals, and whose archive schema is never a target. */
export interface TableUse {
  /** e.g. 'clean', for "public.v is a view (clean needs a table)" */
  command: string;
  /** The tool's own archive schema (--archive-schema, default lead_dedupe). */
  archiveSchema: string;
}

const RELATION_KINDS: Record<string, string> = {
  v: 'view',
  m: 'materialized view',
  f: 'foreign table',
  S: 'sequence',
  i: 'index',
  I: 'partitioned index',
  c: 'composite type',
  t: 'TOAST table',
};

/**
 * Looks a table up in the catalog by name: `leads` (first match on the
 * user's search_path, as the session had it before the tool pinned it: session-pin.ts) or `schema.leads`, each part bare or double-quoted as in
 * SQL (`"crm.v2".leads`). Names are compared as data, never pasted into
 * SQL, so `x"; drop table y` is simply a table that does not exist. System
 * schemas and the archive schema are refused (exit 2), so are views and
 * other relations that are not tables.
 */
export async function resolveTable(db: Db, requested: string, use: TableUse): Promise<TableInfo> {
  const parsed = parseTableName(requested);
  const found = parsed === null ? undefined : ((await findRelation(db, parsed.exact)) ?? (await findRelation(db, parsed.folded)));
  if (found === undefined) {
    const existing = (await listTables(db)).map(quotedTableName);
    const hint =
      parsed === null && requested.includes('.') && !requested.includes('"')
        ? ': a name holding a dot needs double quotes, e.g. --table \'"crm.v2".leads\''
        : '';
    throw new CatalogError(`table "${requested}" not found${hint}; tables here: ${existing.length ? existing.join(', ') : '(none)'}`);
  }
  return checkedTable(db, found, use);
}

/** The table a run recorded by schema and name (restore): not parsed, and not looked for on the search_path. */
export async function resolveTableByName(db: Db, schema: string, name: string, use: TableUse): Promise<TableInfo | undefined> {
  const found = await findRelation(db, { schema, name });
  return found === undefined ? undefined : checkedTable(db, found, use);
}

/** `resolveTable` for a filter (runs --table): no refusals, undefined when there is no such relation. */
export async function findTableName(db: Db, requested: string): Promise<{ schema: string; name: string } | undefined> {
  const parsed = parseTableName(requested);
  if (parsed === null) return undefined;
  return (await findRelation(db, parsed.exact)) ?? (await findRelation(db, parsed.folded));
}

/** pg_temp_3, pg_toast_temp_3: other sessions' temporary objects. */
const SYSTEM_SCHEMA = /^(pg_catalog|information_schema|pg_toast|pg_temp_[0-9]+|pg_toast_temp_[0-9]+)$/;

async function checkedTable(db: Db, found: Relation, use: TableUse): Promise<TableInfo> {
  const display = qualifiedName(found);
  if (SYSTEM_SCHEMA.test(found.schema)) {
    throw new UsageError(`${use.command} refuses ${display}: it is in ${found.schema}, a system schema; it works on user tables only`);
  }
  if (found.schema === use.archiveSchema) {
    throw new UsageError(`${use.command} refuses ${display}: it is in ${found.schema}, lead-dedupe's own archive schema`);
  }
  if (found.kind !== 'r' && found.kind !== 'p') {
    throw new CatalogError(`${display} is a ${RELATION_KINDS[found.kind] ?? 'relation, not a table'} (${use.command} needs a table)`);
  }
  return {
    schema: found.schema,
    name: found.name,
    oid: found.oid,
    columns: await listColumns(db, found.oid),
    distribution: await tableDistribution(db, found.oid),
  };
}

export function findColumn(table: TableInfo, name: string): ColumnInfo | undefined {
  return table.columns.find((column) => column.name === name);
}

export function requireColumn(table: TableInfo, name: string, role = 'column'): ColumnInfo {
  const column = findColumn(table, name);
  if (!column) {
    throw new CatalogError(
      `${role} "${name}" not found in ${qualifiedName(table)}${didYouMean(
        name,
        table.columns.map((c) => c.name),
      )}; columns: ${table.columns.map((c) => c.name).join(', ')}`,
    );
  }
  return column;
}

export async function tableExists(db: Db, schema: string, name: string): Promise<boolean> {
  return (await findTable(db, schema, name)) !== undefined;
}

interface Relation {
  schema: string;
  name: string;
  oid: number;
  /** pg_class.relkind: 'r' table, 'p' partitioned table, 'v' view, … */
  kind: string;
}

/** Any relation by name (tables, views, …), so a view can be named as such instead of "not found". */
async function findRelation(db: Db, { schema, name }: TableName): Promise<Relation | undefined> {
  const { rows } = await sql<{ schema: string; name: string; oid: number; kind: string }>`
    with user_path as (
      select array(select pg_catalog.jsonb_array_elements_text(coalesce(
               nullif(pg_catalog.current_setting(${USER_SEARCH_PATH_SETTING}, true), '')::jsonb,
               pg_catalog.to_jsonb(pg_catalog.current_schemas(true))))) as path)
    select n.nspname as schema, c.relname as name, c.oid::int8 as oid, c.relkind::text as kind
    from pg_catalog.pg_class c
    join pg_catalog.pg_namespace n on n.oid = c.relnamespace, user_path u
    where c.relname = ${name}
      and (case when ${schema}::text is null then n.nspname = any(u.path)
                else n.nspname = ${schema}::text end)
    order by pg_catalog.array_position(u.path, n.nspname::text)
    limit 1`.execute(db);
  const row = rows[0];
  return row ? { schema: row.schema, name: row.name, oid: Number(row.oid), kind: row.kind } : undefined;
}

/** A table (not a view, …) by exact schema and name. */
async function findTable(db: Db, schema: string, name: string) {
  const found = await findRelation(db, { schema, name });
  return found !== undefined && (found.kind === 'r' || found.kind === 'p') ? found : undefined;
}

async function listColumns(db: Db, oid: number): Promise<ColumnInfo[]> {
  const { rows } = await sql<{ name: string; type: string; not_null: boolean; identity: string; generated: string; equality_schema: string | null }>`
    select a.attname as name, pg_catalog.format_type(a.atttypid, a.atttypmod) as type, a.attnotnull as not_null,
           a.attidentity::text as identity, a.attgenerated::text as generated,
           (select n.nspname from pg_catalog.pg_type t
              join pg_catalog.pg_opclass oc on oc.opcintype = (case when t.typtype = 'd' then t.typbasetype else t.oid end) and oc.opcdefault
              join pg_catalog.pg_am am on am.oid = oc.opcmethod and am.amname = 'btree'
              join pg_catalog.pg_amop ao on ao.amopfamily = oc.opcfamily and ao.amopstrategy = 3
                                        and ao.amoplefttype = oc.opcintype and ao.amoprighttype = oc.opcintype
              join pg_catalog.pg_operator o on o.oid = ao.amopopr
              join pg_catalog.pg_namespace n on n.oid = o.oprnamespace
            where t.oid = a.atttypid and n.nspname <> 'pg_catalog' limit 1) as equality_schema
    from pg_catalog.pg_attribute a
    where a.attrelid = ${oid}::int8::oid and a.attnum > 0 and not a.attisdropped
    order by a.attnum`.execute(db);
  return rows.map((row) => ({
    name: row.name,
    type: row.type,
    notNull: row.not_null,
    identity: row.identity,
    generated: row.generated !== '',
    equalitySchema: row.equality_schema,
  }));
}

async function listTables(db: Db): Promise<{ schema: string; name: string }[]> {
  const { rows } = await sql<{ schema: string; name: string }>`
    select n.nspname as schema, c.relname as name
    from pg_catalog.pg_class c
    join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    where c.relkind in ('r', 'p')
      and n.nspname not in ('pg_catalog', 'information_schema')
      and n.nspname not like 'pg_toast%'
    order by 1, 2
    limit 50`.execute(db);
  return rows;
}
