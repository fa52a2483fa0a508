import type { Database } from '../../db/database.js';
import { listTableIndexes, type TableIndexInfo } from '../../db/table-indexes.js';
import type { LeadTable, ResolvedKey } from '../../keys/key-definition.js';
import { indexElements } from '../../sql/constraint-plan.js';
import { quotedNamesQuery } from '../../sql/index-probe-plan.js';
import { keyForms, type KeyForms } from '../constraint/deparse-key.js';

/**
 * The key's index elements as pg_get_indexdef prints them, so they compare
 * as text with existing indexes: a plain column is its quote_ident; a key
 * with an expression is deparsed on an empty temporary copy of the table
 * (constraint/deparse-key.ts), in each form it may have been indexed in.
 * A read-only connection cannot make one, so there an expression is our own
 * SQL text, which may print differently from the server's (the index is then
 * not recognised: only a hint is lost).
 */
export async function keyIndexElements(database: Database, table: LeadTable, keys: ResolvedKey[]): Promise<KeyForms[]> {
  const withExpressions = keys.filter((key) => key.columns.some((column) => column.normalize !== null));
  if (database.features.readOnly === null && withExpressions.length > 0) {
    const deparsed = await keyForms(database, table, withExpressions);
    const plain = await keyIndexElementsReadOnly(database, keys);
    return keys.map((key, index) => deparsed[withExpressions.indexOf(key)] ?? plain[index]!);
  }
  return keyIndexElementsReadOnly(database, keys);
}

async function keyIndexElementsReadOnly(database: Database, keys: ResolvedKey[]): Promise<KeyForms[]> {
  const names = [...new Set(keys.flatMap((key) => key.columns.map((column) => column.column)))];
  const { rows } = await quotedNamesQuery(names).execute(database.db);
  const quoted = new Map(names.map((name, index) => [name, rows[0]!.quoted[index]!]));
  return keys.map((key) => {
    const own = indexElements(key).map((element) => element.compile(database.db).sql);
    const elements = key.columns.map((column, index) => (column.normalize === null ? quoted.get(column.column)! : own[index]!));
    return { elements, forms: [elements], functions: [] };
  });
}

/** servesKey for any of the forms the key may have been indexed in. */
export function servesKeyForms(index: TableIndexInfo, key: Pick<KeyForms, 'forms'>): boolean {
  return key.forms.some((elements) => servesKey(index, elements));
}

/** A usable index (valid, whole-table) whose leading elements are exactly the key's, in any order: it serves one lookup per key. */
export function servesKey(index: TableIndexInfo, elements: string[]): boolean {
  if (!index.valid || index.predicate !== null || index.elements.length < elements.length) return false;
  const leading = new Set(index.elements.slice(0, elements.length));
  return elements.every((element) => leading.has(element)) && leading.size === elements.length;
}

export interface WindowIndexes {
  /** An index led by the window column (finds the window's rows without reading the table); null when none. */
  windowIndex: string | null;
  /** Per key, in order: an index serving its lookups, or null. */
  keyIndexes: (string | null)[];
}

/** Which indexes an incremental scan can use; the command names the missing ones on stderr. */
export async function findWindowIndexes(database: Database, table: LeadTable, keys: ResolvedKey[], windowColumn: string): Promise<WindowIndexes> {
  const indexes = await listTableIndexes(database, table.info.oid);
  const [windowElement] = (await quotedNamesQuery([windowColumn]).execute(database.db)).rows[0]!.quoted;
  const elements = await keyIndexElements(database, table, keys);
  return {
    windowIndex: indexes.find((index) => index.valid && index.predicate === null && index.elements[0] === windowElement)?.name ?? null,
    keyIndexes: elements.map((forms) => indexes.find((index) => servesKeyForms(index, forms))?.name ?? null),
  };
}
