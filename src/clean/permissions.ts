import type { Db } from '../db/database.js';
import { currentUser, databaseRights, displayIdentifier, hasColumnOrMayAddIt, hasTablePrivilege, relationOid } from '../db/privilege-catalog.js';
import { qualifiedName } from '../db/catalog.js';
import type { LeadTable } from '../keys/key-definition.js';
import { ARCHIVE_TABLES } from './sql/archive-sql.js';
import type { ChildReference, CleanMode } from './types.js';
import { PermissionError } from './errors.js';

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
    if (!(await hasTablePrivilege(db, needs.table.info.oid, right))) problems.push(`${right} on ${tableName}`);
  }
  for (const reference of needs.references) {
    const oid = await relationOid(db, reference.schema, reference.table);
    for (const right of ['SELECT', 'UPDATE']) {
      if (oid !== null && !(await hasTablePrivilege(db, oid, right)))
        problems.push(`${right} on ${reference.schema}.${reference.table} (its rows are re-pointed)`);
    }
  }
  const row = await databaseRights(db, needs.archiveSchema);
  if (!row.temp) problems.push('TEMP on the database (clean stages its work in temporary tables)');
  if (!row.schema_exists) {
    if (!row.create_db) problems.push(`CREATE on the database, to create the archive schema ${needs.archiveSchema} (or create it for this user first)`);
    return problems;
  }
  if (!row.usage) problems.push(`USAGE on the archive schema ${needs.archiveSchema}`);
  for (const archive of ARCHIVE_TABLES) {
    const oid = await relationOid(db, needs.archiveSchema, archive);
    if (oid === null) {
      if (!row.create_schema) problems.push(`CREATE on the archive schema ${needs.archiveSchema}, to create ${archive}`);
      continue;
    }
    for (const right of ['SELECT', 'INSERT', 'UPDATE']) {
      if (!(await hasTablePrivilege(db, oid, right))) problems.push(`${right} on ${needs.archiveSchema}.${archive}`);
    }
    if (archive === 'lead_dedupe_keepers' && !needs.restore && !(await hasColumnOrMayAddIt(db, oid, 'merged_data'))) {
      problems.push(
        `ownership of ${needs.archiveSchema}.${archive}, to add its merged_data column (an archive from an older version; or add it as its owner: alter table … add column merged_data jsonb)`,
      );
    }
  }
  return problems;
}

export async function requirePrivileges(db: Db, needs: Needs): Promise<void> {
  const problems = await missingPrivileges(db, needs);
  if (problems.length === 0) return;
  const user = await currentUser(db);
  throw new PermissionError(`database user ${user} lacks ${problems.join(', ')}; nothing was changed`, { user, missing: problems });
}

/**
 * `restore` and `runs` read the archive before anything else: without USAGE
 * on its schema or SELECT on its tables the first read failed with a raw
 * 42501. Checked up front instead (exit 2), naming what is missing and the
 * GRANTs that give it; archive tables not created yet are not needed.
 */
export async function requireArchiveReadable(db: Db, archiveSchema: string, command: string): Promise<void> {
  const row = await databaseRights(db, archiveSchema);
  if (!row.schema_exists) return;
  const problems: string[] = [];
  if (!row.usage) problems.push(`USAGE on the archive schema ${archiveSchema}`);
  for (const archive of ARCHIVE_TABLES) {
    const oid = await relationOid(db, archiveSchema, archive);
    if (oid !== null && !(await hasTablePrivilege(db, oid, 'SELECT'))) problems.push(`SELECT on ${archiveSchema}.${archive}`);
  }
  if (problems.length === 0) return;
  const user = displayIdentifier(await currentUser(db));
  const schema = displayIdentifier(archiveSchema);
  const grants = [
    ...(row.usage ? [] : [`GRANT USAGE ON SCHEMA ${schema} TO ${user}`]),
    ...(problems.some((problem) => problem.startsWith('SELECT')) ? [`GRANT SELECT ON ALL TABLES IN SCHEMA ${schema} TO ${user}`] : []),
  ];
  throw new PermissionError(
    `database user ${user} lacks ${problems.join(', ')}, which ${command} reads first; as the archive's owner run: ${grants.join('; ')}; nothing was changed`,
    { user, missing: problems },
  );
}
