import type { Database } from '../db/database.js';
import { distributionColumnOf } from '../db/distribution.js';
import { foreignKeysTo, plainUniqueIndexesOn } from '../db/foreign-key-catalog.js';
import { CatalogError } from '../errors.js';
import type { LeadTable } from '../keys/key-definition.js';
import type { ChildReference, UnindexedChildKey } from './types.js';

const ON_DELETE: Record<string, string> = { a: 'no action', r: 'restrict', c: 'cascade', n: 'set null', d: 'set default' };

/**
 * Every foreign key that references the leads table, from pg_constraint
 * (never configured by hand). clean re-points their rows to the keeper
 * before the delete, so ON DELETE CASCADE never fires and RESTRICT never
 * errors. Supported: keys onto the id column, single-column or composite
 * (e.g. (device_id, lead_id) → leads (device_id, id), the shape Citus
 * requires between co-located tables), on child tables with a primary key
 * (the archive needs it to find a moved row again). `sameInGroup`: the
 * leads columns every row of a duplicate group shares (the key's columns
 * taken as they are): a composite key's other columns that are all among
 * them keep their value when a row moves; the others take the keeper's.
 */
export async function loadChildReferences(database: Database, table: LeadTable, sameInGroup: ReadonlySet<string> = new Set()): Promise<ChildReference[]> {
  const rows = await foreignKeysTo(database.db, table.info.oid);
  const references: ChildReference[] = [];
  for (const row of rows) {
    const name = `${row.schema}.${row.table} (${row.constraint})`;
    const idAt = row.parent_columns.indexOf(table.idColumn);
    if (idAt < 0 || (row.self && row.child_columns.length !== 1)) {
      throw new CatalogError(
        `foreign key ${name} references (${row.parent_columns.join(', ')}); clean can only re-point keys onto ${table.idColumn} (a self-reference only by a single column)`,
      );
    }
    const shared = row.child_columns.map((child, index) => ({ child, parent: row.parent_columns[index]! })).filter((_, index) => index !== idAt);
    if (row.primary_key === null || row.primary_key.length === 0) {
      throw new CatalogError(
        `${row.schema}.${row.table} references the leads through ${row.constraint} but has no primary key; clean cannot archive its moved rows`,
      );
    }
    references.push({
      constraint: row.constraint,
      schema: row.schema,
      table: row.table,
      column: row.child_columns[idAt]!,
      shared,
      parent: { schema: table.info.schema, table: table.info.name },
      copied: shared.filter((pair) => !sameInGroup.has(pair.parent)),
      distributionColumn: await distributionColumnOf(database.db, row.schema, row.table),
      primaryKey: row.primary_key,
      onDelete: ON_DELETE[row.on_delete] ?? row.on_delete,
      self: row.self,
      notNull: row.not_null,
      indexed: row.indexed,
      uniqueIndexes: await loadUniqueIndexes(database, Number(row.child_oid), row.child_columns[idAt]!),
    });
  }
  return references;
}

/**
 * Unique indexes on a child table that include the foreign key column. Only
 * plain-column indexes are checked up front; the predicate of a partial index
 * is ignored (conservative: such a group is skipped even if the predicate
 * would not apply). An expression index that breaks makes the batch fail and
 * roll back instead.
 */
async function loadUniqueIndexes(database: Database, childOid: number, column: string): Promise<ChildReference['uniqueIndexes']> {
  const indexes = await plainUniqueIndexesOn(database.db, childOid, database.features.serverVersionNum);
  return indexes.filter((index) => index.columns.includes(column));
}

/**
 * Child foreign keys no index starts with: re-pointing and deleting then
 * scan the whole child table once per batch (measured: a group of 50,000
 * copies took 36.4 s in one batch, 1.8 s once the child was indexed). The
 * tool only warns; building an index is the DBA's call.
 */
export function unindexedChildKeys(references: ChildReference[]): UnindexedChildKey[] {
  return references
    .filter((reference) => !reference.indexed)
    .map((reference) => ({ schema: reference.schema, table: reference.table, column: reference.column, constraint: reference.constraint }));
}
