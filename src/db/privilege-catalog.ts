import { sql } from 'kysely';
import type { Db } from './database.js';

/** What the current user may do in this database and in one schema (the archive's), read before anything changes. */
export interface DatabaseRights {
  temp: boolean;
  create_db: boolean;
  schema_exists: boolean;
  usage: boolean | null;
  create_schema: boolean | null;
}

export async function databaseRights(db: Db, schema: string): Promise<DatabaseRights> {
  const { rows } = await sql<DatabaseRights>`
    select has_database_privilege(current_database(), 'TEMP') as temp,
           has_database_privilege(current_database(), 'CREATE') as create_db,
           exists (select 1 from pg_catalog.pg_namespace where nspname = ${schema}) as schema_exists,
           (select has_schema_privilege(oid, 'USAGE') from pg_catalog.pg_namespace where nspname = ${schema}) as usage,
           (select has_schema_privilege(oid, 'CREATE') from pg_catalog.pg_namespace where nspname = ${schema}) as create_schema`.execute(db);
  return rows[0]!;
}

export async function currentUser(db: Db): Promise<string> {
  const { rows } = await sql<{ who: string }>`select current_user::text as who`.execute(db);
  return rows[0]?.who ?? '?';
}

export async function hasTablePrivilege(db: Db, oid: number, right: string): Promise<boolean> {
  const { rows } = await sql<{ ok: boolean }>`select has_table_privilege(${oid}::int8::oid, ${right}) as ok`.execute(db);
  return rows[0]?.ok === true;
}

/** A relation's oid by schema and name, or null. */
export async function relationOid(db: Db, schema: string, name: string): Promise<number | null> {
  const { rows } = await sql<{ oid: string | number }>`
    select c.oid::int8 as oid from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    where n.nspname = ${schema} and c.relname = ${name}`.execute(db);
  return rows[0] ? Number(rows[0].oid) : null;
}

/** The column exists already, or the current user may add it (ALTER TABLE: the table's owner, or a member of its role). */
export async function hasColumnOrMayAddIt(db: Db, oid: number, column: string): Promise<boolean> {
  const { rows } = await sql<{ ok: boolean }>`
    select exists (select 1 from pg_catalog.pg_attribute where attrelid = ${oid}::int8::oid and attname = ${column} and not attisdropped)
           or pg_has_role((select relowner from pg_catalog.pg_class where oid = ${oid}::int8::oid), 'USAGE') as ok`.execute(db);
  return rows[0]?.ok === true;
}

/** A table's owner, and whether the current user acts as it (the owner, a member of its role, or a superuser): what CREATE INDEX and ALTER TABLE need. */
export async function tableOwnership(db: Db, oid: number): Promise<{ owner: string; user: string; owns: boolean; ownerIsSuperuser: boolean }> {
  const { rows } = await sql<{ owner: string; user: string; owns: boolean; owner_super: boolean }>`
    select r.rolname::text as owner, current_user::text as user, pg_catalog.pg_has_role(c.relowner, 'USAGE') as owns, r.rolsuper as owner_super
    from pg_catalog.pg_class c join pg_catalog.pg_roles r on r.oid = c.relowner where c.oid = ${oid}::int8::oid`.execute(db);
  const row = rows[0];
  return row === undefined ? { owner: '?', user: '?', owns: true, ownerIsSuperuser: false } : { ...row, ownerIsSuperuser: row.owner_super };
}

/** A role or schema name as it would be typed in SQL: quoted unless it is a plain lower-case identifier (for messages only; never executed). */
export function displayIdentifier(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) ? name : `"${name.replaceAll('"', '""')}"`;
}
