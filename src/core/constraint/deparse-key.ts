import type { Db } from '../../db/database.js';
import type { LeadTable, ResolvedKey } from '../../keys/key-definition.js';
import { PROBE_TABLE, probeIndexElementsQuery, probeIndexStatement, probeTableStatement } from '../../sql/index-probe-plan.js';

/**
 * Each key's index elements as PostgreSQL itself prints them
 * (pg_get_indexdef), so they compare as text with the elements of existing
 * indexes: the server adds casts and parentheses of its own
 * (`'[^0-9]'::text`), which no hand-written normaliser would reproduce.
 * The index is built on an empty temporary copy of the table's columns,
 * dropped at commit: nothing is left behind and the real table is not locked.
 */
export async function deparseKeyElements(db: Db, table: LeadTable, keys: ResolvedKey[]): Promise<string[][]> {
  if (keys.length === 0) return [];
  return db.transaction().execute(async (trx) => {
    await probeTableStatement(table).execute(trx);
    const names = keys.map((_, index) => `${PROBE_TABLE}_${index + 1}`);
    for (const [index, key] of keys.entries()) await probeIndexStatement(names[index]!, key).execute(trx);
    const { rows } = await probeIndexElementsQuery().execute(trx);
    return names.map((name) => rows.find((row) => row.name === name)!.elements);
  });
}
