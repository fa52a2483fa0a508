import type { Db } from '../../db/database.js';
import { databaseIdentityQuery, systemIdentifierQuery } from './plan-identity-sql.js';
import type { PlanDatabaseIdentity } from './plan-format.js';

/** Which database this is, for a plan's header and for the check before applying one. */
export async function readDatabaseIdentity(db: Db): Promise<PlanDatabaseIdentity> {
  const row = (await databaseIdentityQuery().execute(db)).rows[0]!;
  // not readable without superuser or pg_monitor: the name and version still identify the database
  const system = await systemIdentifierQuery()
    .execute(db)
    .then((result) => result.rows[0]?.system_identifier ?? null)
    .catch(() => null);
  return { systemIdentifier: system, name: row.name, serverVersion: row.server_version };
}
