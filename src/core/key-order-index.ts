import type { Database } from '../db/database.js';
import { listTableIndexes, type TableIndexInfo } from '../db/table-indexes.js';
import type { LeadTable, ResolvedKey } from '../keys/key-definition.js';
import { keyIndexElements } from './incremental/key-index.js';

/**
 * Per key, in order: whether a usable index (valid, whole-table) is led by
 * the key's raw columns in the key's own order, the order of the scan's
 * GROUP BY. Over such an index the planner can count the groups with an
 * Index Only Scan in key order and a GroupAggregate: no hashing, no spill
 * (1M rows, 2 cores: 0.48 s against 1.0–1.2 s for the hash aggregate;
 * bench/README.md, B18). A key split into hash parts loses that plan (each
 * part's filter on a hash of the key makes it read the table), so scan runs
 * such a key whole. A normalised key is never matched here: its index would
 * be on expressions the key's SQL must print exactly as the index does.
 * Only a choice of plan rests on this answer, never a figure: the statement
 * is the same either way.
 */
export async function keysInIndexOrder(database: Database, table: LeadTable, keys: ResolvedKey[]): Promise<boolean[]> {
  const raw = keys.filter((key) => key.columns.every((column) => column.normalize === null));
  if (raw.length === 0) return keys.map(() => false);
  const [indexes, elements] = await Promise.all([listTableIndexes(database, table.info.oid), keyIndexElements(database, table, raw)]);
  return keys.map((key) => {
    const position = raw.indexOf(key);
    return position >= 0 && indexes.some((index) => ledInOrder(index, elements[position]!.elements));
  });
}

/** pg_get_indexdef's access method: only a btree index is read in key order. */
const BTREE = / USING btree \(/;

/** A usable btree index whose first elements are `elements`, in that order. */
export function ledInOrder(index: TableIndexInfo, elements: string[]): boolean {
  if (!index.valid || index.predicate !== null || index.elements.length < elements.length || !BTREE.test(index.definition)) return false;
  return elements.every((element, position) => index.elements[position] === element);
}
