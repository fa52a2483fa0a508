import { sql } from 'kysely';
import type { Db } from '../../db/database.js';
import { qualifiedName } from '../../db/catalog.js';
import type { LeadTable } from '../../keys/key-definition.js';
import { ARCHIVE_TABLES } from '../../sql/archive-plan.js';
import type { ChildReference, CleanMode } from './clean-types.js';
import { PermissionError } from './clean-errors.js';

interface Needs {
  table: LeadTable;
  references: ChildReference[];
  archiveSchema: string;
  mode: CleanMode;
  /** restore inserts into the table instead of deleting from it */
  restore?: boolean;
}

/**
 * What the current user lacks for an --execute run, checked with
 * has_*_privilege before anything changes. An empty list means go.
 */
export async function missingPrivileges(db: Db, needs: Needs): Promise<string[]> {
  const problems: string[] = [];
  const tableName = qualifiedName(needs.table.info);
  const tableRights = needs.restore ? ['SELECT', 'INSERT', 'UPDATE'] : needs.mode === 'merge' ? ['SELECT', 'DELETE', 'UPDATE'] : ['SELECT', 'DELETE'];
  for (const right of tableRights) {
    if (!(await hasTable(db, needs.table.info.oid, right))) problems.push(`${right} on ${tableName}`);
  }
  for (const reference of needs.references) {
    const oid = await oidOf(db, reference.schema, reference.table);
    for (const right of ['SELECT', 'UPDATE']) {
      if (oid !== null && !(await hasTable(db, oid, right))) problems.push(`${right} on ${reference.schema}.${reference.table} (its rows are re-pointed)`);
    }
  }
  const { rows } = await sql<{ temp: boolean; create_db: boolean; schema_exists: boolean; usage: boolean | null; create_schema: boolean | null }>`
    select has_database_privilege(current_database(), 'TEMP') as temp,
           has_database_privilege(current_database(), 'CREATE') as create_db,
           exists (select 1 from pg_catalog.pg_namespace where nspname = ${needs.archiveSchema}) as schema_exists,
           (select has_schema_privilege(oid, 'USAGE') from pg_catalog.pg_namespace where nspname = ${needs.archiveSchema}) as usage,
           (select has_schema_privilege(oid, 'CREATE') from pg_catalog.pg_namespace where nspname = ${needs.archiveSchema}) as create_schema`.execute(db);
  const row = rows[0]!;
  if (!row.temp) problems.push('TEMP on the database (clean stages its work in temporary tables)');
  if (!row.schema_exists) {
    if (!row.create_db) problems.push(`CREATE on the database, to create the archive schema ${needs.archiveSchema} (or create it for this user first)`);
    return problems;
  }
  if (!row.usage) problems.push(`USAGE on the archive schema ${needs.archiveSchema}`);
  for (const archive of ARCHIVE_TABLES) {
    const oid = await oidOf(db, needs.archiveSchema, archive);
    if (oid === null) {
      if (!row.create_schema) problems.push(`CREATE on the archive schema ${needs.archiveSchema}, to create ${archive}`);
      continue;
    }
    for (const right of ['SELECT', 'INSERT', 'UPDATE']) {
      if (!(await hasTable(db, oid, right))) problems.push(`${right} on ${needs.archiveSchema}.${archive}`);
    }
    if (archive === 'lead_dedupe_keepers' && !needs.restore && !(await canAddMergedData(db, oid))) {
      problems.push(`ownership of ${needs.archiveSchema}.${archive}, to add its merged_data column (an archive from an older version; or add it as its owner: alter table … add column merged_data jsonb)`);
    }
  }
  return problems;
}

export async function requirePrivileges(db: Db, needs: Needs): Promise<void> {
  const problems = await missingPrivileges(db, needs);
  if (problems.length === 0) return;
  const { rows } = await sql<{ who: string }>`select current_user::text as who`.execute(db);
  throw new PermissionError(`database user ${rows[0]?.who ?? '?'} lacks ${problems.join(', ')}; nothing was changed`);
}

async function hasTable(db: Db, oid: number, right: string): Promise<boolean> {
  const { rows } = await sql<{ ok: boolean }>`select has_table_privilege(${oid}::int8::oid, ${right}) as ok`.execute(db);
  return rows[0]?.ok === true;
}

async function oidOf(db: Db, schema: string, name: string): Promise<number | null> {
  const { rows } = await sql<{ oid: string | number }>`
    select c.oid::int8 as oid from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    where n.nspname = ${schema} and c.relname = ${name}`.execute(db);
  return rows[0] ? Number(rows[0].oid) : null;
}

/** An archive from before merged_data needs the column added once (ALTER TABLE: the table's owner only). */
async function canAddMergedData(db: Db, oid: number): Promise<boolean> {
  const { rows } = await sql<{ ok: boolean }>`
    select exists (select 1 from pg_catalog.pg_attribute where attrelid = ${oid}::int8::oid and attname = 'merged_data' and not attisdropped)
           or pg_has_role((select relowner from pg_catalog.pg_class where oid = ${oid}::int8::oid), 'USAGE') as ok`.execute(db);
  return rows[0]?.ok === true;
}
