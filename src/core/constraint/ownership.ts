import { qualifiedName } from '../../db/catalog.js';
import type { Database } from '../../db/database.js';
import { displayIdentifier, tableOwnership } from '../../db/privilege-catalog.js';
import type { LeadTable } from '../../keys/key-definition.js';
import { PermissionError } from '../../clean/errors.js';

/**
 * CREATE INDEX and ALTER TABLE … ADD CONSTRAINT need the table's owner (or
 * a member of its role); without it the build failed with a raw 42501
 * ("must be owner of table leads"). Checked before the first statement
 * (exit 2, like clean's missing privileges), naming the owner and the GRANT
 * that makes the user act as it.
 */
export async function requireTableOwner(database: Database, table: LeadTable, command: string): Promise<void> {
  const { owner, user, owns, ownerIsSuperuser } = await tableOwnership(database.db, table.info.oid);
  if (owns) return;
  const name = qualifiedName(table.info);
  // Membership in a superuser's role would hand over everything it owns: then only a change of owner is suggested.
  const remedy = ownerIsSuperuser
    ? `ALTER TABLE ${name} OWNER TO <a role ${user} is a member of>`
    : `GRANT ${displayIdentifier(owner)} TO ${displayIdentifier(user)}`;
  throw new PermissionError(
    `database user ${user} does not own ${name}: ${command} builds an index on it, which needs its owner (${owner}) or a member of that role; ` +
      `run it as ${owner}, or as ${owner}: ${remedy}; nothing was changed`,
    { user, missing: [`ownership of ${name}`] },
  );
}
